"""Task resources: what a Task's ``Resource`` names and how the engine calls it.

* a Lambda function ARN (``arn:aws:lambda:...:function:name``): the result is the function's JSON response;
* optimized integrations ``arn:aws:states:::<service>:<action>[.waitForTaskToken]``: ``lambda:invoke``,
  ``sqs:sendMessage``, ``sns:publish``, ``events:putEvents``, ``dynamodb:getItem|putItem|updateItem|deleteItem``;
* AWS SDK integrations ``arn:aws:states:::aws-sdk:<service>:<action>``: any boto3 operation.

Failures raise ``StatesError`` with AWS's names: a function error keeps the function's ``errorType`` (Cause = the
whole error payload); a service error of an optimized integration is ``<Prefix>.<JavaExceptionName>`` (for instance
``DynamoDB.ConditionalCheckFailedException``) with a cause in the AWS SDK for Java's format. For AWS SDK
integrations the prefix is the service name capitalised (``Dynamodb.``), the code as the service returns it with an
``Exception`` suffix.
"""
from __future__ import annotations

import base64
import datetime as _dt
import inspect
import json
import re
import threading
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Callable

from .. import errors
from .failures import RUNTIME, StatesError
from .payloads import dumps

# (function name, payload[, on_start]) -> (response, X-Amz-Function-Error); an invoker that takes ``on_start`` calls
# it when a worker takes the invocation (the task's TimeoutSeconds counts from there), else the call starts at once
LambdaInvoke = Callable[..., "tuple[bytes, str | None]"]
OnStart = Callable[[], None] | None
ClientFactory = Callable[[str], Any]

_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:([\w-]+):([\w-]+):function:([\w-]+)(?::([\w$-]+))?$")
_STATES_ARN = re.compile(r"^arn:aws[\w-]*:states:::([\w-]+(?::[\w-]+)?):([\w]+)(?:\.(sync(?::2)?|waitForTaskToken))?$")
_ACTIVITY_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]+:\d{12}:activity:[\w-]+$")

# prefix of error names and service id in causes, per optimized-integration service
_SERVICE_NAMES = {
    "lambda": ("Lambda", "AWSLambda"),
    "dynamodb": ("DynamoDB", "AmazonDynamoDBv2"),
    "sqs": ("SQS", "AmazonSQS"),
    "sns": ("SNS", "AmazonSNS"),
    "events": ("EventBridge", "AmazonEventBridge"),
}
_OPTIMIZED = {
    "lambda": {"invoke"},
    "dynamodb": {"getItem", "putItem", "updateItem", "deleteItem"},
    "sqs": {"sendMessage"},
    "sns": {"publish"},
    "events": {"putEvents"},
}
# aws-sdk service names that boto3 spells differently
_SDK_CLIENT_NAMES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}
# SQS query-protocol codes and their Java exception names
_SQS_CODES = {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist"}


@dataclass(frozen=True, slots=True)
class Resource:
    arn: str
    kind: str            # "lambda-function" | "optimized" | "aws-sdk" | "activity"
    service: str         # "lambda", "dynamodb", ... (aws-sdk: the SDK service name)
    action: str          # "invoke", "putItem", ... (Lambda ARN: the function name)
    pattern: str = ""    # "" | "waitForTaskToken" | "sync" | "sync:2"

    @property
    def callback(self) -> bool:
        return self.pattern == "waitForTaskToken"

    @property
    def resource_type(self) -> str:
        """``resourceType`` of TaskScheduled events."""
        return f"aws-sdk:{self.service}" if self.kind == "aws-sdk" else self.service

    @property
    def resource_name(self) -> str:
        """``resource`` of TaskScheduled events."""
        return f"{self.action}.{self.pattern}" if self.pattern else self.action


class UnknownResource(ValueError):
    pass


def parse_resource(arn: Any) -> Resource:
    if not isinstance(arn, str):
        raise UnknownResource(f"The resource provided {arn} is not recognized")
    match = _LAMBDA_ARN.match(arn)
    if match:
        return Resource(arn, "lambda-function", "lambda", match.group(3))
    match = _STATES_ARN.match(arn)
    if match:
        service, action, pattern = match.group(1), match.group(2), match.group(3) or ""
        if service.startswith("aws-sdk:"):
            return Resource(arn, "aws-sdk", service.split(":", 1)[1], action, pattern)
        if ":" in service:
            raise UnknownResource(f"The resource provided {arn} is not recognized")
        return Resource(arn, "optimized", service, action, pattern)
    if _ACTIVITY_ARN.match(arn):
        return Resource(arn, "activity", "activity", arn.rsplit(":", 1)[1])
    raise UnknownResource(f"The resource provided {arn} is not recognized. The value is not a valid resource ARN, or "
                          f"the resource is not available in this region.")


def function_name(value: str) -> str:
    """A Lambda FunctionName (name, name:qualifier, partial or full ARN) reduced to the bare name."""
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else value
    parts = value.split(":")
    if len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name[:qualifier]
        return parts[2]
    return parts[0]


def _to_json(value: Any) -> Any:
    """A boto3 response made JSON: bytes as base64, datetimes as ISO strings, no ResponseMetadata."""
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if hasattr(value, "read"):  # streaming body
        return value.read().decode("utf-8", "replace")
    return value


def _http_metadata(request_id: str, status: int = 200, extra: dict | None = None) -> dict:
    headers = {"Content-Type": "application/x-amz-json-1.0", "Date": formatdate(usegmt=True),
               "x-amzn-RequestId": request_id}
    if extra:
        headers.update(extra)
    return {
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                            "HttpStatusCode": status},
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def _java_code(code: str) -> str:
    code = _SQS_CODES.get(code, code)
    code = code.rsplit(".", 1)[-1]
    return code if code.endswith("Exception") else code + "Exception"


class Integrations:
    def __init__(self, lambda_invoke: LambdaInvoke | None = None, aws_client: ClientFactory | None = None,
                 region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self.lambda_invoke = lambda_invoke
        self._invoke_reports_start = lambda_invoke is not None and _takes(lambda_invoke, "on_start")
        self.aws_client = aws_client
        self.region = region
        self.account_id = account_id
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.nested = None  # nested.NestedExecutions: states:startExecution[.sync[:2]|.waitForTaskToken]

    # -- entry point ----------------------------------------------------------------------------------------

    def call(self, resource: Resource, parameters: Any, on_start: OnStart = None) -> Any:
        """Run one task attempt (for a callback task: the request that hands out the token). ``on_start()`` is
        called when the work starts: for a Lambda function when a worker takes the invocation, else now."""
        if resource.kind == "lambda-function":
            return self._invoke_function(resource.arn, parameters, on_start=on_start)[0]
        if resource.kind == "optimized" and (resource.service, resource.action) == ("lambda", "invoke") and \
                not resource.pattern.startswith("sync"):
            return self._lambda_invoke(parameters if isinstance(parameters, dict) else {}, on_start)
        if on_start is not None:
            on_start()
        if resource.kind == "optimized":
            if resource.service == "states" and resource.action == "startExecution" and self.nested is not None:
                if resource.pattern.startswith("sync"):  # the engine runs these through nested.run_sync
                    raise StatesError(RUNTIME, f"{resource.arn} must run inside an execution")
                return self.nested.start(parameters)
            if resource.pattern.startswith("sync"):
                raise StatesError(RUNTIME, f"The resource pattern '.{resource.pattern}' of {resource.arn} is not "
                                           f"supported by the local runtime")
            handler = getattr(self, f"_{resource.service}_{resource.action}", None)
            if handler is None or resource.action not in _OPTIMIZED.get(resource.service, ()):
                raise StatesError(RUNTIME, f"The resource {resource.arn} is not supported by the local runtime")
            return handler(parameters if isinstance(parameters, dict) else {})
        if resource.kind == "aws-sdk":
            return self._sdk(resource, parameters if isinstance(parameters, dict) else {})
        raise StatesError(RUNTIME, f"The resource {resource.arn} is not supported by the local runtime")

    # -- Lambda ---------------------------------------------------------------------------------------------

    def _function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def _invoke_function(self, target: str, payload: Any, raw_payload: bytes | None = None,
                         on_start: OnStart = None) -> tuple[Any, bytes]:
        if self.lambda_invoke is None:
            if on_start is not None:
                on_start()
            raise StatesError(RUNTIME, "No Lambda runtime is configured")
        name = function_name(target)
        body = raw_payload if raw_payload is not None else dumps(payload).encode()
        try:
            if on_start is not None and self._invoke_reports_start:
                response, function_error = self.lambda_invoke(name, body, on_start=on_start)
            else:
                if on_start is not None:
                    on_start()
                response, function_error = self.lambda_invoke(name, body)
        except errors.ResourceNotFoundException:
            raise StatesError(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {self._function_arn(name)} (Service: AWSLambda; Status Code: 404; Error Code: "
                f"ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)",
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
            return None, response
        try:
            return json.loads(text), response
        except ValueError:
            return text, response

    def _lambda_invoke(self, params: dict, on_start: OnStart = None) -> dict:
        target = params.get("FunctionName")
        if not isinstance(target, str):
            if on_start is not None:
                on_start()
            raise StatesError("Lambda.InvalidParameterValueException",
                              "FunctionName is required (Service: AWSLambda; Status Code: 400; Error Code: "
                              "InvalidParameterValueException; Proxy: null)")
        payload = params.get("Payload", {})
        raw = payload.encode() if isinstance(payload, str) else None
        result, _ = self._invoke_function(target, payload, raw, on_start=on_start)
        request_id = str(uuid.uuid4())
        out = {"ExecutedVersion": "$LATEST", "Payload": result}
        out.update(_http_metadata(request_id, 200, {"X-Amz-Executed-Version": "$LATEST"}))
        out["StatusCode"] = 200
        return out

    # -- boto3-backed services ------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            if self.aws_client is None:
                raise StatesError(RUNTIME, "No AWS client factory is configured")
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._clients[service] = self.aws_client(service)
        return client

    def _boto_call(self, service: str, operation: str, params: dict, prefix: str | None, service_id: str) -> dict:
        from botocore.exceptions import ClientError, ParamValidationError

        client = self.client(service)
        method = _method_name(client, operation)
        try:
            response = getattr(client, method)(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = err.get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            request_id = exc.response.get("ResponseMetadata", {}).get("RequestId", str(uuid.uuid4()))
            name = _java_code(code)
            raise StatesError(
                f"{prefix}.{name}",
                f"{err.get('Message', '')} (Service: {service_id}; Status Code: {status}; Error Code: {name}; "
                f"Request ID: {request_id}; Proxy: null)",
            ) from None
        except ParamValidationError as exc:
            raise StatesError(f"{prefix}.ValidationException",
                              f"{exc} (Service: {service_id}; Status Code: 400; Error Code: ValidationException; "
                              f"Proxy: null)") from None
        return response

    def _optimized(self, service: str, operation: str, params: dict) -> dict:
        prefix, service_id = _SERVICE_NAMES[service]
        response = self._boto_call(service, operation, params, prefix, service_id)
        request_id = response.get("ResponseMetadata", {}).get("RequestId") or str(uuid.uuid4())
        out = _to_json(response)
        out.update(_http_metadata(request_id))
        return out

    def _dynamodb_getItem(self, params: dict) -> dict:
        return self._optimized("dynamodb", "GetItem", params)

    def _dynamodb_putItem(self, params: dict) -> dict:
        return self._optimized("dynamodb", "PutItem", params)

    def _dynamodb_updateItem(self, params: dict) -> dict:
        return self._optimized("dynamodb", "UpdateItem", params)

    def _dynamodb_deleteItem(self, params: dict) -> dict:
        return self._optimized("dynamodb", "DeleteItem", params)

    def _sqs_sendMessage(self, params: dict) -> dict:
        params = dict(params)
        if "MessageBody" in params and not isinstance(params["MessageBody"], str):
            params["MessageBody"] = dumps(params["MessageBody"])
        return self._optimized("sqs", "SendMessage", params)

    def _sns_publish(self, params: dict) -> dict:
        params = dict(params)
        if "Message" in params and not isinstance(params["Message"], str):
            params["Message"] = dumps(params["Message"])
        return self._optimized("sns", "Publish", params)

    def _events_putEvents(self, params: dict) -> dict:
        params = dict(params)
        entries = []
        for entry in params.get("Entries", []):
            if isinstance(entry, dict) and "Detail" in entry and not isinstance(entry["Detail"], str):
                entry = dict(entry, Detail=dumps(entry["Detail"]))
            entries.append(entry)
        params["Entries"] = entries
        return self._optimized("events", "PutEvents", params)

    def _sdk(self, resource: Resource, params: dict) -> dict:
        service = _SDK_CLIENT_NAMES.get(resource.service, resource.service)
        operation = resource.action[0].upper() + resource.action[1:]
        prefix = resource.service[0].upper() + resource.service[1:]
        from .sdk_names import api_parameters

        params = api_parameters(self.client(service), operation, params)
        response = self._boto_call(service, operation, params, prefix, prefix)
        return _to_json(response)


def _takes(fn: Callable, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


def _method_name(client: Any, operation: str) -> str:
    mapping = getattr(client.meta, "method_to_api_mapping", {})
    for method, api in mapping.items():
        if api == operation:
            return method
    raise StatesError(RUNTIME, f"The API action {operation} is not known to the SDK")
