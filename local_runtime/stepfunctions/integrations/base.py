"""``TaskComponent``: one kind of Task resource, chosen when the definition is parsed (factory.py).

A component knows what its Resource calls (``call``: on a task-pool thread, or ``request`` for a call that starts
at once), which integration patterns AWS offers for it (``patterns``), and which history events record it (``Task*``
here; ``LambdaFunction*`` for a Lambda function ARN, awslambda.py). ``run`` is one attempt in a pattern:

* request/response: the call, with the task's ``TimeoutSeconds`` (``run.call`` counts it from the call's start);
* ``.waitForTaskToken``: the call, ``TaskSubmitted`` with its response, then the token's answer
  (``run.wait_for_token``: SendTaskSuccess/Failure, ``TimeoutSeconds``, ``HeartbeatSeconds``);
* ``.sync``/``.sync:2``: the component's own (sfn.py: start a child execution and wait for its end).

``run`` is the running branch (execution.py ``Branch``); a component uses only ``run.env.integrations`` (the ports
of ports.py), ``run.clock``, ``run.cancel``, ``run.record``, ``run.call`` and ``run.wait_for_token``.
"""
from __future__ import annotations

from typing import Any

from ..failures import HEARTBEAT_TIMEOUT, TIMEOUT
from ..payloads import Payload
from .ports import Integrations, OnStart
from .resource import REQUEST_RESPONSE, Resource

TIMEOUTS = (TIMEOUT, HEARTBEAT_TIMEOUT)  # errors recorded as *TimedOut events


class TaskComponent:
    patterns: frozenset[str] = frozenset({REQUEST_RESPONSE})  # the integration patterns AWS offers for it
    operations: dict[str, str] = {}  # the actions of an optimized integration -> the API operation each calls
    response_members: dict[str, str] | None = None  # a result's members and types when no botocore model has them

    __slots__ = ("resource",)

    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    @property
    def callback(self) -> bool:
        return self.resource.callback

    def response_operation(self) -> tuple[str, str] | None:
        """(boto3 service, API operation) whose response model a result has (TestState's mock checks), or None."""
        return None

    # -- one attempt ------------------------------------------------------------------------------------------------

    def run(self, run: Any, parameters: Payload, timeout: float | None, heartbeat: float | None) -> Payload:
        integrations = run.env.integrations
        result = run.call(lambda on_start: self.call(integrations, parameters, on_start), timeout)
        if not self.callback:
            return result
        self.submitted(run, result)
        return Payload(run.wait_for_token(timeout, heartbeat))

    def call(self, integrations: Integrations, parameters: Payload, on_start: OnStart) -> Payload:
        """The service call, on a task-pool thread; ``on_start()`` when its work starts (here: at once)."""
        if on_start is not None:
            on_start()
        return Payload(self.request(integrations, as_object(parameters.value)))

    def request(self, integrations: Integrations, params: dict) -> Any:
        raise NotImplementedError

    # -- history ------------------------------------------------------------------------------------------------------

    def _names(self) -> dict:
        return {"resourceType": self.resource.resource_type, "resource": self.resource.resource_name}

    def scheduled(self, run: Any, parameters: Payload, timeout: float | None, heartbeat: float | None) -> None:
        details = {**self._names(), "region": run.env.integrations.region, "parameters": parameters}
        if timeout is not None:
            details["timeoutInSeconds"] = int(timeout)
        if heartbeat is not None:
            details["heartbeatInSeconds"] = int(heartbeat)
        run.record("TaskScheduled", details)
        run.record("TaskStarted", self._names())

    def submitted(self, run: Any, output: Payload) -> None:
        run.record("TaskSubmitted", {**self._names(), "output": output, "outputDetails": {"truncated": False}})

    def failed(self, run: Any, error: str, cause: str) -> None:
        run.record("TaskTimedOut" if error in TIMEOUTS else "TaskFailed",
                   {**self._names(), "error": error, "cause": cause})

    def succeeded(self, run: Any, result: Payload) -> None:
        run.record("TaskSucceeded", {**self._names(), "output": result, "outputDetails": {"truncated": False}})

    def too_large_cause(self) -> str:
        """A result over 256 KiB fails the task (AWS-recorded); the cause names the service."""
        return (f"The state/task '{self.resource.resource_type}' returned a result with a size exceeding the maximum "
                f"number of bytes service limit.")


def as_object(params: Any) -> dict:
    """A task's parameters as the request's object (anything else: an empty request, as the service will say)."""
    return params if isinstance(params, dict) else {}


__all__ = ["TIMEOUTS", "TaskComponent", "as_object"]
