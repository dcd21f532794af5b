"""Errors of the local runtime, named exactly after the AWS error codes they stand for.

A ServiceError carries what an AWS endpoint returns for it: the code (class name), a message and an HTTP status.
"""
from __future__ import annotations


class ServiceError(Exception):
    """Base class: an error an AWS API answers with. Never raised itself."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__

    def to_json(self) -> dict:
        """AWS JSON-protocol error body (``__type`` plus ``message``)."""
        return {"__type": self.code, "message": self.message}


class ResourceNotFoundException(ServiceError):
    status = 404


class ValidationException(ServiceError):
    pass


class InvalidParameterValueException(ServiceError):
    pass


class UnknownOperationException(ServiceError):
    pass


class SerializationException(ServiceError):
    """JSON protocols: the request body is not a JSON object of the operation's shape."""


class InvalidDefinition(ServiceError):
    pass


class InvalidName(ServiceError):
    pass


class InvalidArn(ServiceError):
    pass


class InvalidExecutionInput(ServiceError):
    pass


class InvalidToken(ServiceError):
    pass


class TaskDoesNotExist(ServiceError):
    pass


class TaskTimedOut(ServiceError):
    pass


class StateMachineDoesNotExist(ServiceError):
    pass


class StateMachineAlreadyExists(ServiceError):
    pass


class ExecutionDoesNotExist(ServiceError):
    pass


class ExecutionAlreadyExists(ServiceError):
    pass


class ServiceUnavailable(ServiceError):
    status = 503


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


class InvalidOutput(ServiceError):
    pass


class InvalidLoggingConfiguration(ServiceError):
    pass


class StateMachineTypeNotSupported(ServiceError):
    pass
