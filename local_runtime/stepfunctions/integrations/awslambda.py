"""AWS Lambda: a function ARN as the Resource (``LambdaFunction``) and the optimized ``arn:aws:states:::lambda:invoke``
(``LambdaInvoke``, also ``.waitForTaskToken``).

The payload goes to the invoker (ports.py ``lambda_invoke``) as bytes made once: a function ARN sends the task's
parameters as the text the engine made for them (their size check and history), ``lambda:invoke`` its ``Payload``
member (a string as is); the invoker is told the bytes are the engine's JSON (not a string sent as is), so it does
not parse them again to check them. The response is read once: parsed into the result, whose size is bounded by the
response's (``Payload.bound``), so the result is not serialised again to be measured.

A function error keeps the function's ``errorType`` as the error (cause: the whole error payload); an unknown
function is ``Lambda.ResourceNotFoundException``, another service error ``Lambda.<Code>``, with AWS SDK causes.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ... import errors
from ..failures import StatesError
from ..payloads import Payload, dumps
from .aws import http_metadata
from .base import TIMEOUTS, TaskComponent, as_object
from .ports import Integrations, OnStart
from .resource import CALLBACK, REQUEST_RESPONSE, function_name

# how much larger than a response's bytes the compact JSON of the value parsed from it can be: whitespace and
# escapes only shrink, a number can grow 4.5 times ("1e15" -> 1000000000000000.0); a response that is no JSON is
# kept as a string, whose JSON text is at most 6 times as long (a control character is \u00XX) plus the quotes
_JSON_GROWTH, _TEXT_GROWTH = 5, 6
# the bytes lambda:invoke's result adds around the function's response (ExecutedVersion, StatusCode, metadata)
_INVOKE_ENVELOPE_BYTES = 1024
# lambda:invoke's result members and types (Step Functions' shape: Payload is JSON, not a blob)
_INVOKE_MEMBERS = {"StatusCode": "integer", "FunctionError": "string", "LogResult": "string",
                   "ExecutedVersion": "string"}


def invoke(integrations: Integrations, target: str, body: bytes, on_start: OnStart,
           body_is_json: bool = True) -> tuple[Any, int]:
    """The function's result (parsed JSON; its text when it is no JSON; None when empty) and a bound of the size of
    its compact JSON text, in bytes. ``body_is_json``: the engine's JSON encoder made the body."""
    name = function_name(target)
    try:
        response, function_error = integrations.invoke(name, body, on_start, body_is_json)
    except errors.ResourceNotFoundException:
        raise StatesError(
            "Lambda.ResourceNotFoundException",
            f"Function not found: {integrations.function_arn(name)} (Service: AWSLambda; Status Code: 404; Error "
            f"Code: ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)",
        ) from None
    except errors.ServiceError as exc:
        raise StatesError(f"Lambda.{exc.code}",
                          f"{exc.message} (Service: AWSLambda; Status Code: {exc.status}; Error Code: {exc.code}; "
                          f"Request ID: {uuid.uuid4()}; Proxy: null)") from None
    text = response.decode("utf-8", "replace") if response else ""
    if function_error:
        try:
            envelope = json.loads(text) if text else {}
        except ValueError:
            envelope = {}
        error = envelope.get("errorType") if isinstance(envelope, dict) else None
        raise StatesError(error or "Lambda.Unknown", text)
    if not text:
        return None, 4
    try:
        return json.loads(text), _JSON_GROWTH * len(response)
    except ValueError:
        return text, _TEXT_GROWTH * len(response) + 2


class LambdaFunction(TaskComponent):
    """``arn:aws:lambda:<region>:<account>:function:<name>``: the result is the function's response; the history
    has ``LambdaFunction*`` events."""

    __slots__ = ()

    def call(self, integrations: Integrations, parameters: Payload, on_start: OnStart) -> Payload:
        value, bound = invoke(integrations, self.resource.arn, parameters.text.encode(), on_start)
        return Payload(value, bound=bound)

    def scheduled(self, run: Any, parameters: Payload, timeout: float | None, heartbeat: float | None) -> None:
        details = {"resource": self.resource.arn, "input": parameters, "inputDetails": {"truncated": False}}
        if timeout is not None:
            details["timeoutInSeconds"] = int(timeout)
        run.record("LambdaFunctionScheduled", details)
        run.record("LambdaFunctionStarted")

    def failed(self, run: Any, error: str, cause: str) -> None:
        run.record("LambdaFunctionTimedOut" if error in TIMEOUTS else "LambdaFunctionFailed",
                   {"error": error, "cause": cause})

    def succeeded(self, run: Any, result: Payload) -> None:
        run.record("LambdaFunctionSucceeded", {"output": result, "outputDetails": {"truncated": False}})

    def too_large_cause(self) -> str:
        return (f"The state/task '{self.resource.arn}' returned a result with a size exceeding the maximum number of "
                f"bytes service limit.")


class LambdaInvoke(TaskComponent):
    """``arn:aws:states:::lambda:invoke[.waitForTaskToken]``: ``FunctionName`` (name, name:qualifier or ARN),
    ``Payload``; the result is ``{"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata",
    "StatusCode"}``."""

    operations = {"invoke": "Invoke"}
    patterns = frozenset({REQUEST_RESPONSE, CALLBACK})
    response_members = _INVOKE_MEMBERS
    __slots__ = ()

    def call(self, integrations: Integrations, parameters: Payload, on_start: OnStart) -> Payload:
        params = as_object(parameters.value)
        target = params.get("FunctionName")
        if not isinstance(target, str):
            if on_start is not None:
                on_start()
            raise StatesError("Lambda.InvalidParameterValueException",
                              "FunctionName is required (Service: AWSLambda; Status Code: 400; Error Code: "
                              "InvalidParameterValueException; Proxy: null)")
        payload = params.get("Payload", {})
        as_is = isinstance(payload, str)
        body = payload.encode() if as_is else dumps(payload).encode()
        value, bound = invoke(integrations, target, body, on_start, body_is_json=not as_is)
        out = {"ExecutedVersion": "$LATEST", "Payload": value}
        out.update(http_metadata(str(uuid.uuid4()), 200, {"X-Amz-Executed-Version": "$LATEST"}))
        out["StatusCode"] = 200
        return Payload(out, bound=bound + _INVOKE_ENVELOPE_BYTES)


__all__ = ["LambdaFunction", "LambdaInvoke", "invoke"]
