"""The whole local stack: template -> data plane -> Lambda workers -> Step Functions -> event sources -> API.

:class:`LocalRuntime` is what ``python -m local_runtime serve`` (``make run``) starts and what the end-to-end tests
drive. It owns every thread and process it starts and stops them all on :meth:`stop`.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from functools import lru_cache
from typing import Any, Callable

import boto3
from botocore.config import Config

from local_runtime.config import ACCOUNT_ID, FAKE_CREDENTIALS, REGION, Settings
from local_runtime.gateway import Gateway, Server
from local_runtime.provision import load_sample_data, provision
from local_runtime.awslambda.functions import function_spec
from local_runtime.cfn import api_casing, cfn_bool
from local_runtime.template import Stack, TemplateError, load_template, render_definition

log = logging.getLogger("local_runtime")

_EXECUTE_API = re.compile(r"^https://(?P<id>[a-z0-9]+)\.execute-api\.[^/]+\.amazonaws\.com/(?P<rest>.*)$")


class LocalRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gateway = Gateway()
        self.endpoint: Server | None = None
        self.api_server: Server | None = None
        self.stack: Stack | None = None
        self.lambda_service = None
        self.engine = None
        self.stepfunctions = None
        self.event_sources: list = []
        self.eventbridge = None
        self.delivery = None  # targets.TargetDelivery: EventBridge targets and stream on-failure destinations
        self.sns = None
        self.api_keys: list = []
        self.faults = None  # faults.Faults when FAULTS is set (chaos runs)
        self.api = None  # apigateway.RestApiEmulator
        self.outputs: dict[str, Any] = {}
        self.console = None  # logs.Console: function logs on the terminal
        self.log_shipper = None  # logs.CloudWatchShipper: function and execution logs to CloudWatch Logs
        self.execution_logs = None  # execution_logs.ExecutionLogShipper
        self.reloader = None  # reload.Reloader (WATCH=1)
        self._stopped = threading.Event()

    # -- clients --------------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        assert self.endpoint is not None, "the endpoint is not started"
        return self.endpoint.url

    def client(self, service: str):
        """A client of this process's endpoint; its requests reach the gateway in-process (gateway/inprocess.py)."""
        return _client(service, self.endpoint_url, self.gateway)

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> "LocalRuntime":
        started = time.perf_counter()
        settings = self.settings
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.endpoint = Server(self.gateway, settings.host, settings.endpoint_port, "endpoint").start()
        self.stack = load_template(
            settings.template,
            settings.overrides,
            stack_name=settings.stack_name,
            region=REGION,
            account_id=ACCOUNT_ID,
            endpoint_url=self.endpoint_url,
        )
        from local_runtime.sns.models import SnsFanout

        # before provisioning: the template's http/https subscriptions are checked like any Subscribe (local_runtime/sns/)
        self.sns = SnsFanout(self.invoke, region=REGION,
                             allowed_http_hosts=settings.sns_http_allowed_hosts)
        self.gateway.sns = self.sns
        provision(self.stack, self.client)
        if settings.sample_data:
            load_sample_data(self.stack, settings.sample_data,
                             _resource("dynamodb", self.endpoint_url, self.gateway))
        if settings.faults:
            from local_runtime.awslambda.faults import Faults

            self.faults = Faults.from_text(settings.faults, settings.faults_seed)
        self._start_logs()
        self._start_lambda()
        self._start_stepfunctions()
        self._start_console()
        self._start_messaging()
        self._start_api()
        self._start_event_sources()
        if settings.watch:
            from local_runtime.reload import Reloader

            self.reloader = Reloader(self).start()
        self.outputs = self._local_outputs()
        self.gateway.outputs = self.outputs
        self.gateway.status = {
            "status": "ready",
            "stack": self.stack.name,
            "parameters": self.stack.parameters,
            "timeScale": settings.time_scale,
            "startupSeconds": round(time.perf_counter() - started, 3),
            **({"faults": self.faults.describe()} if self.faults is not None else {}),
        }
        self.gateway.load = self.load
        self.gateway.ready.set()
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.reloader is not None:
            self.reloader.stop()
        for source in self.event_sources:
            source.stop()
        if self.eventbridge is not None:
            self.eventbridge.shutdown()
        if self.api_server:
            self.api_server.shutdown()
        if self.engine is not None and hasattr(self.engine, "shutdown"):
            self.engine.shutdown()
        if self.lambda_service is not None:
            self.lambda_service.stop()
        self.gateway.sqs_moves.stop()
        if self.execution_logs is not None:
            self.execution_logs.stop()
        if self.log_shipper is not None:
            self.log_shipper.stop()
        if self.endpoint:
            self.endpoint.stop()

    # -- parts ----------------------------------------------------------------------------------------
    def _base_env(self) -> dict[str, str]:
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            # StartSyncExecution's host prefix ("sync-") would turn the endpoint into sync-127.0.0.1
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }

    def _start_logs(self) -> None:
        """Function and execution logs: the terminal, and CloudWatch Logs at the endpoint (local_runtime/logs/)."""
        from local_runtime.logs import CloudWatchShipper, Console, MotoLogs

        functions = self.stack.of_type("AWS::Lambda::Function")
        self.console = Console(self.settings.log_format,
                               label_width=max((len(r.logical_id) for r in functions), default=0))
        self.log_shipper = CloudWatchShipper(lambda: MotoLogs(ACCOUNT_ID, REGION)).start()

    def _start_lambda(self) -> None:
        from local_runtime.awslambda import LambdaService
        from local_runtime.logs import LogRouter

        specs = [function_spec(self.stack, resource) for resource in self.stack.of_type("AWS::Lambda::Function")]
        self.lambda_service = LambdaService(specs, self._base_env(), python=sys.executable,
                                            time_scale=self.settings.time_scale,
                                            max_concurrency_per_function=self.settings.lambda_concurrency,
                                            log_sink=LogRouter(self.console, self.log_shipper),
                                            faults=self.faults)
        self.lambda_service.start()
        self.gateway.lambda_service = self.lambda_service

    def invoke(self, name_or_arn: str, event: Any, *, invocation_type: str = "RequestResponse",
               on_start: Callable[[], None] | None = None, payload_is_json: bool = False) -> tuple[bytes, str | None]:
        """The one :class:`~local_runtime.awslambda.interface.Invoke` every caller of Lambda gets (the engine's
        tasks, API Gateway, event source mappings, SNS, EventBridge): ``event`` a JSON value, or bytes already
        serialised (sent as they are). ``payload_is_json``: the bytes were made by the caller's JSON encoder (the
        engine's task payloads, ports.py), so Lambda checks their size but does not parse them again; the same holds
        of the text made here from a JSON value."""
        if isinstance(event, bytes):
            payload = event
        else:
            payload, payload_is_json = json.dumps(event).encode(), True
        result = self.lambda_service.invoke(name_or_arn, payload, invocation_type=invocation_type, on_start=on_start,
                                            payload_is_json=payload_is_json)
        return result.payload, result.function_error

    def _start_stepfunctions(self) -> None:
        from local_runtime.stepfunctions.clock import RealClock, ScaledClock
        from local_runtime.stepfunctions.engine import Engine
        from local_runtime.stepfunctions.integrations import Integrations
        from local_runtime.stepfunctions.service import StepFunctionsService

        scale = self.settings.time_scale
        clock = RealClock() if scale == 1 else ScaledClock(scale)
        integrations = Integrations(lambda_invoke=self.invoke, aws_client=self.client)
        self.engine = Engine(clock=clock, integrations=integrations,
                             max_finished=self.settings.max_finished_executions)
        self.stepfunctions = StepFunctionsService(self.engine, region=REGION, account_id=ACCOUNT_ID)
        for resource in self.stack.of_type("AWS::StepFunctions::StateMachine"):
            props = resource.properties
            self.stepfunctions.handle(
                "CreateStateMachine",
                {
                    "name": resource.attributes["Name"],
                    "definition": render_definition(resource),
                    "roleArn": props.get("RoleArn", f"arn:aws:iam::{ACCOUNT_ID}:role/{resource.logical_id}Role"),
                    "type": props.get("StateMachineType", "STANDARD"),
                    **({"loggingConfiguration": api_casing(props["LoggingConfiguration"])}
                       if "LoggingConfiguration" in props else {}),
                    **({"tracingConfiguration": api_casing(props["TracingConfiguration"])}
                       if "TracingConfiguration" in props else {}),
                },
            )
        self.gateway.stepfunctions = self.stepfunctions
        if self.log_shipper is not None:
            from local_runtime.logs.execution_logs import ExecutionLogShipper

            self.execution_logs = ExecutionLogShipper(self.stepfunctions, self.log_shipper).start()

    def _start_console(self) -> None:
        """The console at /_local/console/ (local_runtime/console/): it reads the runtime through this endpoint."""
        from local_runtime.console import CONSOLE_AGENT, Console
        from local_runtime.console.express import ExpressRecord

        express = ExpressRecord()
        self.engine.listeners.append(express.on_finished)
        self.gateway.console = Console(lambda service: _client(service, self.endpoint_url, self.gateway,
                                                               CONSOLE_AGENT), self.gateway, express)

    def _start_messaging(self) -> None:
        """EventBridge rules and SNS Lambda subscribers: moto stores them, we deliver (see local_runtime/events/ and local_runtime/sns/)."""
        from local_runtime.events.models import EventBridge
        from local_runtime.events.targets import TargetDelivery

        delivery = TargetDelivery(self.client, self.invoke, self.stepfunctions)
        self.eventbridge = EventBridge(self.client, delivery, region=REGION, account_id=ACCOUNT_ID)
        for topic in self.stack.of_type("AWS::SNS::Topic"):
            for item in topic.properties.get("Subscription") or []:
                if item.get("Protocol") == "lambda":
                    self.sns.subscribe(topic.physical_id, item["Endpoint"])
        for resource in self.stack.of_type("AWS::SNS::Subscription"):
            props = resource.properties
            if props.get("Protocol") == "lambda":
                self.sns.subscribe(props["TopicArn"], props["Endpoint"], props)
        self.delivery = delivery
        self.gateway.eventbridge = self.eventbridge

    def _start_api(self) -> None:
        from local_runtime.apigateway import RestApiEmulator

        apis = self.stack.of_type("AWS::ApiGateway::RestApi")
        if not apis:
            return
        if len(apis) > 1:
            raise TemplateError("The local runtime serves one REST API; this template declares "
                                f"{', '.join(a.logical_id for a in apis)}")
        api = apis[0]
        stages = [s.properties.get("StageName") for s in self.stack.of_type("AWS::ApiGateway::Stage")
                  if s.properties.get("RestApiId") == api.physical_id]
        stage = stages[0] if stages else "prod"
        body = api.properties.get("Body")
        if body is None:
            raise TemplateError(f"{api.logical_id}: the local runtime needs an inline API definition")
        from local_runtime.apigateway.api_keys import api_keys

        self.api_keys = api_keys(self.stack, api.physical_id, stage)
        keys = {key.key_id: key.value for key in self.api_keys if key.usable}
        keys.update(self.settings.api_keys or {})
        emulator = RestApiEmulator(body, stage, api.physical_id, self.invoke, account_id=ACCOUNT_ID, region=REGION,
                                   api_keys=keys or None, throttle=self.saturation)
        self.api = emulator
        keyed_routes = emulator.routes(api_key_required=True)
        self.gateway.api_keys = {key.logical_id: key.as_dict(keyed_routes) for key in self.api_keys}
        self.api_server = emulator.serve(self.settings.host, self.settings.api_port)
        self.api_stage = stage

    def saturation(self) -> str | None:
        """Why the runtime takes no more work now (the API answers 429), or None: task calls of Step Functions
        executions waiting to start (for the engine's task pool or a free Lambda worker) at or above
        MAX_QUEUED_TASKS (0: no bound). Executions parked on a Wait or a task token are no load and do not count.
        docs/local-runtime.md, "Under load"."""
        bound = self.settings.max_queued_tasks
        queued = self.engine.queued_calls() if self.engine is not None else 0
        if bound and queued >= bound:
            return f"{queued} task calls waiting for a worker (MAX_QUEUED_TASKS={bound})"
        return None

    def load(self) -> dict:
        """``load`` of /_local/stats: task calls waiting to start and their bound, executions running and kept,
        API requests answered 429."""
        engine = self.engine
        return {
            "queuedTaskCalls": engine.queued_calls() if engine is not None else 0,
            "maxQueuedTasks": self.settings.max_queued_tasks,
            "runningExecutions": engine.running_count() if engine is not None else 0,
            "keptExecutions": len(engine.executions) if engine is not None else 0,
            "maxFinishedExecutions": self.settings.max_finished_executions,
            "throttledRequests": self.api.throttled if self.api is not None else 0,
        }

    def _start_event_sources(self) -> None:
        from local_runtime.awslambda.event_sources.sqs import SqsEventSource
        from local_runtime.awslambda.event_sources.dynamodb_streams import DynamoDbStreamSource, is_stream_arn

        for mapping in self.stack.of_type("AWS::Lambda::EventSourceMapping"):
            props = mapping.properties
            if not cfn_bool(props.get("Enabled"), default=True):
                continue
            if is_stream_arn(props.get("EventSourceArn")):
                stream = DynamoDbStreamSource(props, self.client("dynamodb"), self.client("dynamodbstreams"),
                                              self.invoke, on_failure=self.delivery.deliver,
                                              clock_scale=self.settings.time_scale, region=REGION)
                stream.start()
                self.event_sources.append(stream)
                continue
            if ":sqs:" not in str(props.get("EventSourceArn", "")):
                log.warning("%s: only SQS and DynamoDB stream event sources run locally (Kinesis, Kafka and MQ do not); skipped", mapping.logical_id)
                continue
            source = SqsEventSource(props, self.client("sqs"), self.invoke, clock_scale=self.settings.time_scale,
                                    region=REGION, account_id=ACCOUNT_ID, faults=self.faults)
            source.start()
            self.event_sources.append(source)

    def _local_outputs(self) -> dict[str, Any]:
        """Outputs as resolved; an execute-api URL is replaced by the local API's URL (same stage and path)."""
        outputs = {}
        for key, value in self.stack.outputs.items():
            if isinstance(value, str) and self.api_server is not None:
                match = _EXECUTE_API.match(value)
                if match:
                    value = f"{self.api_server.url}/{match.group('rest')}"
            outputs[key] = value
        return outputs

    def wait_stopped(self) -> None:
        while not self._stopped.wait(0.5):
            pass


_SESSION_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _session() -> boto3.session.Session:
    """One session for the runtime's own clients: its loader reads each service model once (a session per client
    read endpoints.json and the models again, about 0.1 s of CPU each). Sessions are not thread-safe: clients are
    created under _SESSION_LOCK; the clients themselves are."""
    return boto3.session.Session()


@lru_cache(maxsize=None)
def _client(service: str, endpoint_url: str, app=None, agent: str | None = None):
    """``agent``: added to the User-Agent (the console's calls are counted apart in /_local/stats)."""
    from local_runtime.gateway.inprocess import attach

    with _SESSION_LOCK:
        client = _session().client(
            service,
            endpoint_url=endpoint_url,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=64,
                          inject_host_prefix=False, user_agent_extra=agent),
        )
    return attach(client, app) if app is not None else client


def _resource(service: str, endpoint_url: str, app=None):
    """``app``: the gateway its requests reach in-process (counted as the runtime's own in /_local/stats)."""
    from local_runtime.gateway.inprocess import attach

    with _SESSION_LOCK:
        resource = _session().resource(
            service,
            endpoint_url=endpoint_url,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )
    if app is not None:
        attach(resource.meta.client, app)
    return resource
