"""Nested workflows: the optimized ``arn:aws:states:::states:startExecution`` integration.

Patterns, as the Step Functions developer guide describes them:

* request/response (``states:startExecution``) and callback (``.waitForTaskToken``): the task's result is the
  StartExecution response, ``{"ExecutionArn", "StartDate" (epoch ms), "SdkHttpMetadata", "SdkResponseMetadata"}``;
  a callback task then waits for its token as any callback task does.
* Run a Job (``.sync`` and ``.sync:2``): the parent records ``TaskSubmitted`` with that response and waits for the
  child to end. Its result is the child's DescribeExecution with PascalCase keys and epoch-millisecond dates:
  ``Input``/``Output`` are JSON strings with ``.sync`` and parsed JSON with ``.sync:2``. A child that ends
  FAILED, TIMED_OUT or ABORTED fails the task with ``States.TaskFailed`` and, as cause, that DescribeExecution
  document serialised (so ``Error`` and ``Cause`` of the child are inside it).
* When the parent stops waiting (StopExecution, execution timeout, a failing sibling branch, the task's
  ``TimeoutSeconds``) the child is stopped, as AWS does for ``.sync`` tasks.

Parameters: ``StateMachineArn`` (required), ``Input`` (an object is serialised; a string is passed as is; absent
means ``{}``), ``Name``. Service errors become ``StepFunctions.<Code>Exception`` with an AWS SDK for Java cause.
"""
from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING, Any

from .. import errors
from . import failures
from .failures import ExecutionCancelled, StatesError
from .integrations import _http_metadata
from .payloads import Payload, dumps
from .scheduler import wait

if TYPE_CHECKING:  # pragma: no cover
    from .execution import Branch, Execution
    from .integrations import Resource
    from .service import StepFunctionsService

_TERMINAL_FAILURES = ("FAILED", "TIMED_OUT", "ABORTED")


def _millis(epoch_seconds: float | None) -> int | None:
    return None if epoch_seconds is None else int(round(epoch_seconds * 1000))


class NestedExecutions:
    """Starts child executions for Task states and waits for them; one per engine."""

    def __init__(self, service: "StepFunctionsService") -> None:
        self.service = service
        self._waiters: dict[str, list[threading.Event]] = {}
        self._lock = threading.Lock()
        service.engine.listeners.append(self._on_finished)

    # -- the API call -----------------------------------------------------------------------------------------------

    def start(self, parameters: Any) -> dict:
        """StartExecution from a task; returns the optimized integration's response."""
        params = parameters if isinstance(parameters, dict) else {}
        body: dict[str, Any] = {"stateMachineArn": params.get("StateMachineArn")}
        if "Input" in params and params["Input"] is not None:
            value = params["Input"]
            body["input"] = value if isinstance(value, str) else dumps(value)
        else:
            body["input"] = "{}"
        if params.get("Name") is not None:
            body["name"] = params["Name"]
        if params.get("TraceHeader") is not None:
            body["traceHeader"] = params["TraceHeader"]
        try:
            response = self.service.handle("StartExecution", body)
        except errors.ServiceError as exc:
            code = exc.code
            raise StatesError(
                f"StepFunctions.{code if code.endswith('Exception') else code + 'Exception'}",
                f"{exc.message} (Service: AWSStepFunctions; Status Code: {exc.status}; Error Code: {code}; "
                f"Request ID: {uuid.uuid4()}; Proxy: null)",
            ) from None
        out = {"ExecutionArn": response["executionArn"], "StartDate": _millis(response["startDate"])}
        out.update(_http_metadata(str(uuid.uuid4())))
        return out

    # -- Run a Job --------------------------------------------------------------------------------------------------

    def run_sync(self, branch: "Branch", resource: "Resource", parameters: Any, timeout: float | None) -> Any:
        """The whole ``.sync``/``.sync:2`` task: start, record TaskSubmitted, wait, shape the result."""
        submitted = self.start(parameters)
        branch.record("TaskSubmitted", {"resourceType": resource.resource_type, "resource": resource.resource_name,
                                        "output": Payload(submitted), "outputDetails": {"truncated": False}})
        child_arn = submitted["ExecutionArn"]
        child = self.service.engine.get(child_arn)
        if child is None:  # pragma: no cover - StartExecution just created it
            raise StatesError(failures.RUNTIME, f"Execution {child_arn} vanished")
        wake = branch.cancel.child()
        self._watch(child_arn, wake)
        try:
            if child.status == "RUNNING":
                if timeout is None:
                    while not wake.is_set():
                        wait(branch.clock, None, [wake])
                elif wait(branch.clock, timeout, [wake]):
                    self._stop_child(child, "States.Timeout", "The parent task timed out")
                    raise StatesError(failures.TIMEOUT, "")
            if branch.cancel.is_set():
                self._stop_child(child, None, None)
                raise ExecutionCancelled()
        finally:
            self._unwatch(child_arn, wake)
            branch.cancel.release(wake)
        described = self.describe(child, parsed=resource.pattern == "sync:2")
        if child.status in _TERMINAL_FAILURES:
            raise StatesError(failures.TASK_FAILED, dumps(described))
        return described

    def describe(self, child: "Execution", parsed: bool) -> dict:
        """DescribeExecution of ``child`` as the ``.sync`` integrations return it."""
        # from the object, not by ARN: a finished child may already be forgotten (Engine.max_finished)
        fields = dict(self.service._execution_fields(child), redriveCount=child.redrive_count)
        out: dict[str, Any] = {}
        for key, value in fields.items():
            name = key[0].upper() + key[1:]
            if key in ("startDate", "stopDate"):
                value = _millis(value)
            elif key in ("inputDetails", "outputDetails") and isinstance(value, dict):
                value = {k[0].upper() + k[1:]: v for k, v in value.items()}
            elif key in ("input", "output") and parsed and isinstance(value, str):
                value = json.loads(value)
            out[name] = value
        return out

    # -- child bookkeeping ------------------------------------------------------------------------------------------

    def _stop_child(self, child: "Execution", error: str | None, cause: str | None) -> None:
        if child.status == "RUNNING":
            child.stop(error, cause)

    def _watch(self, arn: str, event: threading.Event) -> None:
        with self._lock:
            self._waiters.setdefault(arn, []).append(event)
        execution = self.service.engine.get(arn)
        if execution is not None and execution.status != "RUNNING":
            event.set()

    def _unwatch(self, arn: str, event: threading.Event) -> None:
        with self._lock:
            events = self._waiters.get(arn)
            if events and event in events:
                events.remove(event)
            if not events:
                self._waiters.pop(arn, None)

    def _on_finished(self, execution: "Execution") -> None:
        with self._lock:
            events = list(self._waiters.get(execution.arn, ()))
        for event in events:
            event.set()
