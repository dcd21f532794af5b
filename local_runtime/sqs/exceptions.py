"""SQS's error codes, as its JSON protocol answers them: ``{"__type": "com.amazonaws.sqs#<code>", "message"}`` with the
query-compatible code in ``x-amzn-query-error: <code>;Sender`` (what botocore reads the code from)."""
from __future__ import annotations

from local_runtime.errors import ServiceError


class SqsError(ServiceError):
    """Base class of SQS's codes. Never raised itself."""

    def to_json(self) -> dict:
        return {"__type": f"com.amazonaws.sqs#{self.code}", "message": self.message}

    def headers(self) -> dict:
        return {"x-amzn-query-error": f"{self.code};Sender"}


class InvalidParameterValue(SqsError):
    pass


class MissingParameter(SqsError):
    pass


class ResourceNotFoundException(SqsError):
    status = 404


class NonExistentQueue(SqsError):
    """The queue does not exist (a message move task ends FAILED with this code as its reason)."""

    @property
    def code(self) -> str:
        return "AWS.SimpleQueueService.NonExistentQueue"
