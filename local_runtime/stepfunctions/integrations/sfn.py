"""AWS Step Functions, optimized: ``arn:aws:states:::states:startExecution`` (nested workflows).

Patterns, as the Step Functions developer guide describes them:

* request/response and callback (``.waitForTaskToken``): the task's result is the StartExecution response,
  ``{"ExecutionArn", "StartDate" (epoch ms), "SdkHttpMetadata", "SdkResponseMetadata"}``; a callback task then waits
  for its token as any callback task does.
* Run a Job (``.sync`` and ``.sync:2``): the parent records ``TaskSubmitted`` with that response and waits for the
  child to end. Its result is the child's DescribeExecution with PascalCase keys and epoch-millisecond dates:
  ``Input``/``Output`` are JSON strings with ``.sync`` and parsed JSON with ``.sync:2``. A child that ends FAILED,
  TIMED_OUT or ABORTED fails the task with ``States.TaskFailed`` and, as cause, that DescribeExecution document
  serialised (so ``Error`` and ``Cause`` of the child are inside it).
* When the parent stops waiting (StopExecution, execution timeout, a failing sibling branch, the task's
  ``TimeoutSeconds``) the child is stopped, as AWS does for ``.sync`` tasks.

Parameters: ``StateMachineArn`` (required), ``Input`` (an object is serialised; a string is passed as is; absent
means ``{}``), ``Name``, ``TraceHeader``. The execution starts through the Step Functions API (ports.py
``start_execution``); its errors become ``StepFunctions.<Code>Exception`` with an AWS SDK for Java cause.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ... import errors
from ..failures import RUNTIME, TASK_FAILED, TIMEOUT, ExecutionCancelled, StatesError
from ..payloads import Payload, dumps
from ..scheduler import wait
from ..timefmt import epoch_millis
from .aws import http_metadata, java_code
from .base import TaskComponent, as_object
from .ports import Integrations
from .resource import CALLBACK, REQUEST_RESPONSE, SYNC, SYNC2

_TERMINAL_FAILURES = ("FAILED", "TIMED_OUT", "ABORTED")


class StartExecution(TaskComponent):
    operations = {"startExecution": "StartExecution"}
    patterns = frozenset({REQUEST_RESPONSE, CALLBACK, SYNC, SYNC2})
    __slots__ = ()

    def request(self, integrations: Integrations, params: dict) -> dict:
        return _started(_start(integrations, params))

    def run(self, run: Any, parameters: Payload, timeout: float | None, heartbeat: float | None) -> Payload:
        if self.resource.pattern not in (SYNC, SYNC2):
            return super().run(run, parameters, timeout, heartbeat)
        child = _start(run.env.integrations, as_object(parameters.value))
        self.submitted(run, Payload(_started(child)))
        stops = [child.done, run.cancel]
        if timeout is None:
            while not any(flag.is_set() for flag in stops):
                wait(run.clock, None, stops)
        elif wait(run.clock, timeout, stops):
            _stop(child, TIMEOUT, "The parent task timed out")
            raise StatesError(TIMEOUT, "")
        if run.cancel.is_set():
            _stop(child, None, None)
            raise ExecutionCancelled()
        described = describe(child, parsed=self.resource.pattern == SYNC2)
        if child.status in _TERMINAL_FAILURES:
            raise StatesError(TASK_FAILED, dumps(described))
        return Payload(described)


def _start(integrations: Integrations, params: dict) -> Any:
    """StartExecution from a task; returns the child execution."""
    if integrations.start_execution is None:
        raise StatesError(RUNTIME, "No Step Functions API is configured to start executions")
    body: dict[str, Any] = {"stateMachineArn": params.get("StateMachineArn")}
    value = params.get("Input")
    body["input"] = "{}" if value is None else value if isinstance(value, str) else dumps(value)
    if params.get("Name") is not None:
        body["name"] = params["Name"]
    if params.get("TraceHeader") is not None:
        body["traceHeader"] = params["TraceHeader"]
    try:
        return integrations.start_execution(body)
    except errors.ServiceError as exc:
        raise StatesError(
            f"StepFunctions.{java_code(exc.code)}",
            f"{exc.message} (Service: AWSStepFunctions; Status Code: {exc.status}; Error Code: {exc.code}; "
            f"Request ID: {uuid.uuid4()}; Proxy: null)",
        ) from None


def _started(child: Any) -> dict:
    """The optimized integration's StartExecution response."""
    return {"ExecutionArn": child.arn, "StartDate": epoch_millis(child.start_date),
            **http_metadata(str(uuid.uuid4()))}


def _stop(child: Any, error: str | None, cause: str | None) -> None:
    if child.status == "RUNNING":
        child.stop(error, cause)


def describe(child: Any, parsed: bool) -> dict:
    """DescribeExecution of ``child`` as the ``.sync`` integrations return it (from the object: a finished child
    may already be forgotten by the engine)."""
    out: dict[str, Any] = {}
    for key, value in dict(child.describe(), redriveCount=child.redrive_count).items():
        if key in ("startDate", "stopDate"):
            value = epoch_millis(child.start_date if key == "startDate" else child.stop_date)
        elif key in ("inputDetails", "outputDetails") and isinstance(value, dict):
            value = {k[0].upper() + k[1:]: v for k, v in value.items()}
        elif key in ("input", "output") and parsed and isinstance(value, str):
            value = json.loads(value)
        out[key[0].upper() + key[1:]] = value
    return out


__all__ = ["StartExecution", "describe"]
