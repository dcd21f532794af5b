"""Calls to AWS through boto3, as optimized integrations, SDK integrations and the Distributed Map's S3 use them.

``aws_call`` turns a service error into a ``StatesError`` named as Step Functions names it: ``<Prefix>.<Java
exception name>`` (``DynamoDB.ConditionalCheckFailedException``) with a cause in the AWS SDK for Java's format.
``OptimizedIntegration`` is the base of the optimized integrations over boto3 (dynamodb.py, sqs.py, sns.py,
events.py): the response as JSON plus the ``SdkHttpMetadata``/``SdkResponseMetadata`` members they add.
"""
from __future__ import annotations

import base64
import datetime as _dt
import uuid
from email.utils import formatdate
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from ..failures import RUNTIME, StatesError
from ..payloads import dumps
from .base import TaskComponent
from .ports import Integrations
from .resource import CALLBACK, REQUEST_RESPONSE

# SQS query-protocol codes and their Java exception names
_SQS_CODES = {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist"}


def aws_call(integrations: Integrations, service: str, operation: str, params: dict, prefix: str,
             service_id: str) -> dict:
    """``operation`` (``GetItem``) of the boto3 client of ``service``; failures as ``<prefix>.<Name>Exception``."""
    client = integrations.client(service)
    method = _method_name(client, operation)
    try:
        return getattr(client, method)(**params)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code", "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        request_id = exc.response.get("ResponseMetadata", {}).get("RequestId", str(uuid.uuid4()))
        name = java_code(code)
        raise StatesError(
            f"{prefix}.{name}",
            f"{err.get('Message', '')} (Service: {service_id}; Status Code: {status}; Error Code: {name}; "
            f"Request ID: {request_id}; Proxy: null)",
        ) from None
    except ParamValidationError as exc:
        raise StatesError(f"{prefix}.ValidationException",
                          f"{exc} (Service: {service_id}; Status Code: 400; Error Code: ValidationException; "
                          f"Proxy: null)") from None


def _method_name(client: Any, operation: str) -> str:
    """The client's method of an API operation, from the client's own table (never a name built from input)."""
    mapping = getattr(client.meta, "method_to_api_mapping", {})
    for method, api in mapping.items():
        if api == operation:
            return method
    raise StatesError(RUNTIME, f"The API action {operation} is not known to the SDK")


def java_code(code: str) -> str:
    """A service error code as the AWS SDK for Java names its exception (``Code`` -> ``CodeException``)."""
    code = _SQS_CODES.get(code, code)
    code = code.rsplit(".", 1)[-1]
    return code if code.endswith("Exception") else code + "Exception"


def to_json(value: Any) -> Any:
    """A boto3 response made JSON: bytes as base64, datetimes as ISO strings, no ResponseMetadata."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if hasattr(value, "read"):  # streaming body
        return value.read().decode("utf-8", "replace")
    return value


def http_metadata(request_id: str, status: int = 200, extra: dict | None = None) -> dict:
    """The ``SdkHttpMetadata`` and ``SdkResponseMetadata`` members optimized integrations add to a response."""
    headers = {"Content-Type": "application/x-amz-json-1.0", "Date": formatdate(usegmt=True),
               "x-amzn-RequestId": request_id}
    if extra:
        headers.update(extra)
    return {
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                            "HttpStatusCode": status},
        "SdkResponseMetadata": {"RequestId": request_id},
    }


class OptimizedIntegration(TaskComponent):
    """An optimized integration over boto3: ``arn:aws:states:::<service>:<action>``, ``operations`` mapping each
    action to the API operation it calls; errors named ``<error_prefix>.<Name>Exception``."""

    client_name = ""    # the boto3 service
    error_prefix = ""   # "DynamoDB": DynamoDB.ConditionalCheckFailedException
    service_id = ""     # "AmazonDynamoDBv2", in causes
    text_member = ""    # a request member the API wants as text: a JSON value there is sent as its compact text
    patterns = frozenset({REQUEST_RESPONSE, CALLBACK})

    __slots__ = ()

    def response_operation(self) -> tuple[str, str] | None:
        return self.client_name, self.operations[self.resource.action]

    def request(self, integrations: Integrations, params: dict) -> dict:
        response = aws_call(integrations, self.client_name, self.operations[self.resource.action],
                            self.shape(params), self.error_prefix, self.service_id)
        request_id = response.get("ResponseMetadata", {}).get("RequestId") or str(uuid.uuid4())
        out = to_json(response)
        out.update(http_metadata(request_id))
        return out

    def shape(self, params: dict) -> dict:
        """The API request of the task's parameters."""
        member = self.text_member
        if member and member in params and not isinstance(params[member], str):
            return {**params, member: dumps(params[member])}
        return params


__all__ = ["aws_call", "java_code", "to_json", "http_metadata", "OptimizedIntegration"]
