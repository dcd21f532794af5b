"""The app's state machines on our Step Functions engine, in process: the ASL files rendered with the template's
DefinitionSubstitutions, Lambda tasks answered by the real handlers, optimized integrations (DynamoDB, SQS, SNS,
EventBridge) by moto, and the handlers' own Step Functions calls (StartExecution, SendTaskSuccess...) routed to the
same engine. No sockets, no threads of our own besides the engine's."""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore import handlers
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.stepfunctions.clock import DEADLINE, SLEEP, WORK
from local_runtime.stepfunctions.scheduler import current_task
from tests.support.polling import wait_until

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = "123456789012"
REGION = "us-east-1"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
FUNCTION_MODULES = {
    "ValidateOrderFunction": "functions.validate_order.app",
    "StoreOrderFunction": "functions.store_order.app",
    "RequestApprovalFunction": "functions.request_approval.app",
    "ChargePaymentFunction": "functions.charge_payment.app",
    "RefundPaymentFunction": "functions.refund_payment.app",
    "ReserveInventoryFunction": "functions.reserve_inventory.app",
    "ReleaseInventoryFunction": "functions.release_inventory.app",
    "BatchReportFunction": "functions.batch_report.app",
    "PriceQuoteFunction": "functions.price_quote.app",
}
STATE_MACHINE_ENV = {"OrderStateMachine": "ORDER_STATE_MACHINE_ARN", "BatchStateMachine": "BATCH_STATE_MACHINE_ARN",
                     "QuoteStateMachine": "QUOTE_STATE_MACHINE_ARN"}


class SteppedClock(VirtualClock):
    """A manual virtual clock that tells a task call's timeout (a ``WORK`` timer: TimeoutSeconds counted from the
    call's start) from a sleep (a ``SLEEP`` timer: a Wait state, a Retry interval, a callback timeout; or the
    execution's own TimeoutSeconds, a ``DEADLINE``). The engine parks an execution on such timers
    (``clock.call_later``, scheduler.py); no engine thread blocks on this clock.

    ``drive`` moves time from sleep to sleep while the test waits for an execution; a task call's timeout comes only
    when the test asks for it (``expire_work``), once the call it means is held at a ``Gate`` and nothing else runs.
    Every outcome is decided by the test, never by how fast this machine is.
    """

    def _earliest(self, *kinds: str):
        deadlines = [deadline for kind in kinds for deadline in self.pending(kind)[:1]]
        return min(deadlines) if deadlines else None

    def _advance_to(self, deadline) -> None:
        with self._cond:
            if deadline > self._now:
                self._now = deadline
            self._cond.notify_all()
        self._fire_due()

    def work_waits(self) -> int:
        """How many task calls are in progress (started, their TimeoutSeconds counting)."""
        return len(self.pending(WORK))

    def expire_work(self) -> None:
        """Let the earliest task call in progress time out (its TimeoutSeconds elapse at once)."""
        deadline = self._earliest(WORK)
        assert deadline is not None, "no task call is waiting"
        self._advance_to(deadline)

    def step(self) -> bool:
        """Move time to the earliest sleep's end, if something sleeps and no task call would time out on the way;
        True if time moved."""
        deadline = self._earliest(SLEEP, DEADLINE)
        work = self._earliest(WORK)
        if deadline is None or (work is not None and deadline >= work):
            return False
        self._advance_to(deadline)
        return True


class Gate:
    """Holds a call (a Lambda invocation or an SDK call of the engine) until the test opens it.

    ``hold(proceed)`` is an interceptor: the call stops ``before`` its work, or after it (``before=False``: the work
    is done, its answer held). ``reached`` is set when a call stops here, ``done`` when it has finished; ``outcome``
    is its result or the exception it raised. Only the first ``times`` calls stop; later ones pass.
    """

    def __init__(self, before: bool = True, times: int = 1, then: Callable[[], Any] | None = None) -> None:
        self.before = before
        self.times = times
        self.then = then   # instead of the work after opening: raise or answer this (a call lost on its way)
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.done = threading.Event()
        self.outcome: Any = None
        self.calls = 0
        self._lock = threading.Lock()

    def hold(self, proceed: Callable[[], Any], *args: Any) -> Any:
        # the engine makes task calls on its task pool: holding one never blocks the scheduler's thread, where the
        # executions (greenlets) run
        assert current_task() is None, "a task call made on the scheduler's thread"
        with self._lock:
            self.calls += 1
            held = self.calls <= self.times
        if not held:
            return proceed()
        try:
            if not self.before:
                self.outcome = proceed()
            self.reached.set()
            assert self.opened.wait(30), "the test never opened the gate"
            if self.before:
                self.outcome = self.then() if self.then is not None else proceed()
            return self.outcome
        except Exception as exc:
            self.outcome = exc
            raise
        finally:
            self.done.set()

    def open(self, timeout: float = 10.0) -> Any:
        """Let the held call go on; wait until it has finished; return its outcome (raise what it raised)."""
        self.opened.set()
        assert self.done.wait(timeout), "the held call did not finish"
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class InterceptedClient:
    """A boto3 client whose calls pass through ``interceptors[(service, method)](params, proceed)`` when one is
    set (``proceed()`` makes the real call)."""

    def __init__(self, client: Any, service: str, interceptors: dict) -> None:
        self._client = client
        self._service = service
        self._interceptors = interceptors
        self.meta = client.meta

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(**params: Any) -> Any:
            interceptor = self._interceptors.get((self._service, name))
            if interceptor is None:
                return method(**params)
            return interceptor(lambda: method(**params), params)

        return call


class InProcessLambda:
    """``lambda_invoke`` of the engine: the function's handler module called in this process. An interceptor in
    ``interceptors[function logical id](proceed, event)`` may hold or replace an invocation."""

    def __init__(self, context) -> None:
        self.context = context
        self.calls: list[tuple[str, Any]] = []
        self.interceptors: dict[str, Callable[..., Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str, payload: bytes) -> tuple[bytes, str | None]:
        if name not in FUNCTION_MODULES:
            raise errors.ResourceNotFoundException(f"Function not found: {name}")
        event = json.loads(payload)
        with self._lock:
            self.calls.append((name, event))
        interceptor = self.interceptors.get(name)
        if interceptor is None:
            return self._run(name, event)
        return interceptor(lambda: self._run(name, event), event)

    def _run(self, name: str, event: Any) -> tuple[bytes, str | None]:
        module = importlib.import_module(FUNCTION_MODULES[name])
        try:
            return json.dumps(module.lambda_handler(event, self.context)).encode(), None
        except Exception as exc:  # the Lambda service turns a handler exception into this envelope
            envelope = {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": "r-1",
                        "stackTrace": []}
            return json.dumps(envelope).encode(), "Unhandled"


class WorkflowStack:
    """State machines of template.yaml created in our engine's service; see the module docstring."""

    def __init__(self, template: dict, context, clock: VirtualClock, parameters: dict[str, str],
                 table_names: dict[str, str], bus_name: str) -> None:
        self.clock = clock
        self.lambdas = InProcessLambda(context)
        self.interceptors: dict[tuple[str, str], Callable[..., Any]] = {}  # (service, boto3 method) -> interceptor
        self.engine = Engine(clock, Integrations(
            lambda_invoke=self.lambdas,
            aws_client=lambda service: InterceptedClient(boto3.client(service, region_name=REGION), service,
                                                         self.interceptors)))
        self.service = StepFunctionsService(self.engine, REGION, ACCOUNT)  # also serves states:startExecution.sync:2
        self.sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        resources = template["Resources"]
        values: dict[str, str] = {name: str(spec["Default"]) for name, spec in template["Parameters"].items()}
        values.update(parameters)
        values.update(table_names)
        values["OrderEventBus"] = bus_name
        self.queue_url = self.sqs.create_queue(QueueName="wf-fulfillment")["QueueUrl"]
        values["FulfillmentQueue"] = self.queue_url
        self.dlq_url = self.sqs.create_queue(QueueName="wf-fulfillment-dlq")["QueueUrl"]
        values["FulfillmentDlq"] = self.dlq_url
        self.topics: dict[str, str] = {}
        self.notifications: dict[str, str] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::SNS::Topic":
                arn = sns.create_topic(Name=f"wf-{logical_id}")["TopicArn"]
                values[logical_id] = self.topics[logical_id] = arn
                queue = self.sqs.create_queue(QueueName=f"wf-{logical_id}-tap")["QueueUrl"]
                queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
                    "Attributes"]["QueueArn"]
                sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn,
                              Attributes={"RawMessageDelivery": "true"})
                self.notifications[logical_id] = queue
        self.machines: dict[str, str] = {}
        for logical_id in ("OrderStateMachine", "QuoteStateMachine", "BatchStateMachine", "OnboardingStateMachine"):
            props = resources[logical_id]["Properties"]
            substitutions = {key: self._resolve(value, values) for key, value in props["DefinitionSubstitutions"].items()}
            definition = PLACEHOLDER.sub(lambda m: substitutions[m.group(1)],
                                         (ROOT / props["DefinitionUri"]).read_text())
            arn = self.service.handle("CreateStateMachine", {
                "name": f"wf-{logical_id}", "definition": definition, "type": props["Type"],
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/wf"})["stateMachineArn"]
            values[logical_id] = self.machines[logical_id] = arn

    @staticmethod
    def _resolve(value: Any, values: dict[str, str]) -> str:
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", value
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
        if isinstance(value, dict) and "Ref" in value:
            return values[value["Ref"]]
        raise AssertionError(f"unsupported substitution {value!r}")

    # -- boto3 stepfunctions calls of the handlers go to this engine -----------------------------------------

    def route_stepfunctions(self, request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if not target.startswith("AWSStepFunctions."):
            return None
        body = json.loads(request.body or b"{}")
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "Content-Type": "application/x-amz-json-1.0"}
        try:
            status, answer = 200, self.service.handle(target.split(".", 1)[1], body)
        except errors.ServiceError as exc:
            status, answer = exc.status, exc.to_json()
        return AWSResponse(request.url, status, headers, MockRawResponse(json.dumps(answer).encode()))

    # -- driving and reading executions ----------------------------------------------------------------------

    def start(self, logical_id: str, name: str, payload: dict) -> str:
        return self.service.handle("StartExecution", {"stateMachineArn": self.machines[logical_id], "name": name,
                                                      "input": json.dumps(payload)})["executionArn"]

    def describe(self, execution_arn: str) -> dict:
        return self.service.handle("DescribeExecution", {"executionArn": execution_arn})

    def wait(self, execution_arn: str, timeout: float = 20.0) -> dict:
        """Wait (real time) for the end; a virtual clock without auto-advance is advanced when all sleep."""
        return wait_until(lambda: self.describe(execution_arn), timeout, f"{execution_arn} still RUNNING", 0.02,
                          accept=lambda described: described["status"] != "RUNNING")

    def drive(self, execution_arn: str, timeout: float = 20.0) -> dict:
        """Wait for the end of the execution, moving a ``SteppedClock`` from sleep to sleep (Retry intervals, Wait
        states); task calls never time out here (see ``SteppedClock.expire_work``)."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.describe(execution_arn)
            if described["status"] != "RUNNING":
                return described
            assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after {timeout} s"
            if not self.clock.step():
                time.sleep(0.005)

    def history(self, execution_arn: str) -> list[dict]:
        events, token = [], None
        while True:
            body = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                body["nextToken"] = token
            page = self.service.handle("GetExecutionHistory", body)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def messages(self, queue_url: str) -> list[str]:
        bodies = []
        while batch := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def notifications_of(self, topic_logical_id: str) -> list[str]:
        return self.messages(self.notifications[topic_logical_id])


def install(monkeypatch, stack: WorkflowStack, environ: dict[str, str]) -> None:
    """Route the handlers' Step Functions calls to ``stack`` and point their env at its state machines."""
    monkeypatch.setattr(handlers, "BUILTIN_HANDLERS",
                        [("before-send.sfn", stack.route_stepfunctions)] + handlers.BUILTIN_HANDLERS)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    for logical_id, env_name in STATE_MACHINE_ENV.items():
        monkeypatch.setenv(env_name, stack.machines[logical_id])
    for name, value in environ.items():
        monkeypatch.setenv(name, value)


def task_events(history: list[dict], state_name: str) -> list[tuple[str, Any]]:
    """(type, timestamp) of the Task* events of ``state_name``, Parallel branches interleaved or not: each event
    is traced back along previousEventId to the TaskStateEntered it belongs to."""
    by_id = {event["id"]: event for event in history}

    def owner(event: dict) -> str | None:
        while event is not None:
            details = event.get("stateEnteredEventDetails")
            if details is not None and event["type"] == "TaskStateEntered":
                return details["name"]
            event = by_id.get(event["previousEventId"])
        return None

    return [(event["type"], event["timestamp"]) for event in history
            if event["type"].startswith("Task") and not event["type"].endswith("StateEntered")
            and not event["type"].endswith("StateExited") and owner(event) == state_name]


def entered_states(history: list[dict]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in history if event["type"].endswith("StateEntered")]
