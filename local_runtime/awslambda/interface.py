"""What the other services call Lambda through: :class:`Invoke` (the one type of a function handed to them), the
:class:`InvokeResult` Lambda's own Invoke returns, and the error codes a caller may catch.

The runtime (runtime.py) builds each callable from :meth:`LambdaService.invoke` and hands it to the services that
invoke functions: API Gateway's proxy integrations, the event source mappings (SQS, DynamoDB streams), SNS
subscriptions and EventBridge targets. They import nothing else of Lambda.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from local_runtime.awslambda.exceptions import RequestTooLargeException

__all__ = ["Invoke", "InvokeResult", "RequestTooLargeException"]


class Invoke(Protocol):
    """Invoke a function (name or ARN) with an event.

    ``invocation_type`` ``RequestResponse`` (the default) waits for the function: the answer is (payload, function
    error or None); ``on_start()``, when given, is called once a worker takes the invocation (API Gateway counts its
    integration timeout from there). ``Event`` (asynchronous, as SNS and EventBridge invoke) returns once Lambda has
    queued the event. Raises Lambda's error codes (RequestTooLargeException, ...) when the invoke is refused.
    """

    def __call__(self, function: str, event: Any, *, invocation_type: str = "RequestResponse",
                 on_start: Callable[[], None] | None = None) -> tuple[bytes, str | None]: ...


@dataclass
class InvokeResult:
    payload: bytes  # the function's response, or Lambda's error envelope JSON
    function_error: str | None  # None on success, "Unhandled" on error (as X-Amz-Function-Error)
    request_id: str
    status_code: int = 200  # 202 for InvocationType=Event
