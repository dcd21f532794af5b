"""Errors of the local runtime, named exactly after the AWS error codes they stand for: the base class, the codes
several services answer with, and Step Functions' codes (the engine, local_runtime/stepfunctions/, raises them). Each
other service keeps its own codes in its package's ``exceptions.py`` (awslambda/, sns/, sqs/, events/, apigateway/).

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


class UnknownOperationException(ServiceError):
    pass


class SerializationException(ServiceError):
    """JSON protocols: the request body is not a JSON object of the operation's shape."""


class ServiceUnavailableException(ServiceError):
    """The endpoint: the service is still starting."""

    status = 503


# -- Step Functions ---------------------------------------------------------------------------------------------------


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


class InvalidOutput(ServiceError):
    pass


class InvalidLoggingConfiguration(ServiceError):
    pass


class StateMachineTypeNotSupported(ServiceError):
    pass
