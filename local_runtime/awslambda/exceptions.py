"""Lambda's error codes (the Invoke API's): what Invoke raises besides the shared ResourceNotFoundException."""
from __future__ import annotations

from local_runtime.errors import ServiceError


class InvalidParameterValueException(ServiceError):
    """Invoke: a parameter out of its range (an unknown InvocationType)."""


class TooManyRequestsException(ServiceError):
    status = 429

    def __init__(self, message: str = "", reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def to_json(self) -> dict:
        body = super().to_json()
        if self.reason:  # Lambda says why it throttled, e.g. ReservedFunctionConcurrentInvocationLimitExceeded
            body.update({"Reason": self.reason, "Type": "User"})
        return body


class RequestTooLargeException(ServiceError):
    """Lambda Invoke: the request payload is over the synchronous (6 MB) or asynchronous quota."""

    status = 413


class InvalidRequestContentException(ServiceError):
    """Lambda Invoke: the request payload is not JSON."""


class ServiceException(ServiceError):
    """Lambda: the service itself failed (here: invoked after stop())."""

    status = 500
