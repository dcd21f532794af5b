"""REST API emulator: API Gateway (REST, v1 payload) in front of Lambda proxy integrations.

Input is the swagger 2.0 ``Body`` that aws-sam-translator emits for an ``AWS::Serverless::Api`` (intrinsics resolved).
What it reads from that body:

* ``paths[<resource>][<method> | x-amazon-apigateway-any-method]`` with
  ``x-amazon-apigateway-integration`` (``type`` ``aws_proxy``: ``uri`` ``arn:aws:apigateway:...:lambda:path/2015-03-31/
  functions/<function arn>/invocations``; ``type`` ``mock``: the CORS preflight SAM adds for ``Cors``),
  ``x-amazon-apigateway-request-validator``, ``parameters`` (``in`` body/query/header/path, ``required``,
  body ``schema.$ref`` ``#/definitions/<model>``) and ``security`` (``[{"api_key": []}]``);
* ``x-amazon-apigateway-request-validators`` (``validateRequestBody``, ``validateRequestParameters``),
  ``definitions`` (SAM lower-cases model names), ``securityDefinitions`` (``type: apiKey``, ``in: header``),
  ``x-amazon-apigateway-gateway-responses`` (``statusCode``, ``responseTemplates``, ``responseParameters``),
  ``x-amazon-apigateway-binary-media-types``. API keys are read from the ``x-api-key`` header (key source HEADER).

Behaviour as API Gateway documents it: the most specific resource wins (literal > ``{param}`` > ``{proxy+}``, segment
by segment); an unknown resource or method answers 403 ``Missing Authentication Token``; a failed validation answers
400 and invokes nothing; a missing or wrong ``x-api-key`` answers 403 ``Forbidden``; a function error or a malformed
proxy response answers 502 ``Internal server error``; an integration that exceeds its timeout (29 s by default)
answers 504 ``Endpoint request timed out``. Error bodies come from the gateway responses of the body when defined
(``$context.error.message``, ``$context.error.messageString``, ``$context.error.validationErrorString`` and
``$context.requestId`` etc. are substituted; values are JSON-escaped so a template stays valid JSON), else the
AWS defaults.

Local differences: the real URL is ``https://<api>.execute-api.<region>.amazonaws.com/<stage>/<path>``; locally both
``/<stage>/<path>`` and ``/<path>`` are served (a path whose first segment equals the stage name is read as the stage
prefix). ``requestContext.domainName`` is the request's Host header. Which keys are valid comes from the caller
(api_keys.py: the template's keys that a usage plan attaches to this stage). Authorizers (Cognito, Lambda, IAM),
usage-plan quotas, caching and mapping templates of non-proxy integrations are not emulated.

Throttling (429 ``{"message": "Too Many Requests"}``, ``x-amzn-ErrorType: TooManyRequestsException``, gateway
response type ``THROTTLED``): not by request rate but by the local runtime's load. The caller gives ``throttle``, a
function that returns why the runtime is saturated (None when it is not); while it does, every method that may
start work (all but GET, HEAD and OPTIONS) is answered 429 after the API key check and before validation or the
integration, as API Gateway answers a request beyond a usage plan's or a stage's throttle (docs/local-runtime.md,
"Under load").
"""
from __future__ import annotations

import base64
import binascii
import concurrent.futures
import io
import inspect
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import jsonschema
from werkzeug.wrappers import Request, Response

from local_runtime.apigateway.exceptions import ERROR_TYPES, GATEWAY_RESPONSE_DEFAULTS, MalformedProxyResponse
from local_runtime.apigateway.models import Method, Resource, RestApi
from local_runtime.apigateway.server import RAW_HEADERS_KEY, ApiServer, serve
from local_runtime.awslambda.interface import Invoke, RequestTooLargeException

logger = logging.getLogger(__name__)

# API Gateway's payload quota (10 MB). Above it the request is refused before anything else, with this text/plain body
# (recorded from AWS: 413, "HTTP content length exceeded 10485760 bytes."); a gateway response cannot change it.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# A proxy event over Lambda's 6 MB invoke quota: AWS answers 413 {"message": "Request Too Long"}, x-amzn-ErrorType
# BadRequestException (recorded from AWS).
REQUEST_TOO_LONG = "Request Too Long"
# Validation messages echo the offending value (jsonschema: "'xxx...' is too long"): each is cut to this many characters
# and at most MAX_VALIDATION_ERRORS are listed, so an error body never echoes unbounded input.
MAX_VALIDATION_MESSAGE = 256
MAX_VALIDATION_ERRORS = 10

READ_METHODS = ("GET", "HEAD", "OPTIONS")  # never throttled: they start no work
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CONTEXT_VAR = re.compile(r"\$(?:\{context\.([A-Za-z0-9_.]+)\}|context\.([A-Za-z0-9_.]*[A-Za-z0-9_]))")


def _request_time(epoch_ms: int) -> str:
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _json_escape(text: str) -> str:
    return json.dumps(text)[1:-1]


def _validation_message(error: jsonschema.ValidationError) -> str:
    path = error.json_path
    return _cut(error.message if path == "$" else f"{path}: {error.message}")


def _cut(message: str) -> str:
    if len(message) <= MAX_VALIDATION_MESSAGE:
        return message
    return message[:MAX_VALIDATION_MESSAGE] + f"... ({len(message)} characters)"


class RestApiEmulator:
    """One deployed stage of a REST API whose methods use Lambda proxy (or mock) integrations."""

    def __init__(self, body: dict, stage: str, rest_api_id: str, invoke: Invoke, account_id: str = "123456789012",
                 region: str = "us-east-1", api_keys: dict[str, str] | None = None,
                 stage_variables: dict[str, str] | None = None, integration_timeout: float | None = None,
                 throttle: Callable[[], str | None] | None = None) -> None:
        self.api = RestApi(body, stage, integration_timeout)
        self.stage = stage
        self.rest_api_id = rest_api_id
        self.invoke = invoke
        self.account_id = account_id
        self.region = region
        self.api_keys = dict(api_keys or {})
        self.stage_variables = dict(stage_variables) if stage_variables else None
        self.throttle = throttle  # -> why the runtime is saturated, or None (module docstring, "Throttling")
        # an invoke(function, event, on_start=...) calls on_start when a worker takes the invocation
        self._invoke_reports_start = "on_start" in inspect.signature(invoke).parameters
        self.throttled = 0  # requests answered 429
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="apigw-invoke")

    def routes(self, api_key_required: bool | None = None) -> list[str]:
        """``"POST /orders"`` for every method (see :meth:`RestApi.routes`)."""
        return self.api.routes(api_key_required)

    # ----- WSGI ------------------------------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        extended_id = base64.b64encode(uuid.uuid4().bytes[:9]).decode().rstrip("=")
        try:
            response = self._handle(request, request_id, extended_id)
        except Exception:   # never let a bug drop the connection: answer like API Gateway does
            logger.exception("API request %s %s failed", request.method, request.path)
            response = self._gateway_response("DEFAULT_5XX", request_id)
        response.headers["x-amzn-RequestId"] = request_id
        response.headers["x-amz-apigw-id"] = extended_id
        elapsed_ms = (time.monotonic() - started) * 1000
        sys.stderr.write(f"[api] {request.method} {request.full_path.rstrip('?')} {response.status_code} "
                         f"{elapsed_ms:.0f}ms\n")
        return response(environ, start_response)

    def _handle(self, request: Request, request_id: str, extended_id: str) -> Response:
        if _too_large(request):
            return Response(f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.", status=413,
                            content_type="text; charset=utf-8")
        path, _ = self.api.split_stage(request.path)
        matched = self.api.match(path)
        if matched is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        resource, path_params = matched
        method = resource.methods.get(request.method.upper()) or resource.methods.get("ANY")
        if method is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)

        api_key_id = None
        if method.api_key_required:
            sent = request.headers.get("x-api-key")
            api_key_id = next((kid for kid, value in self.api_keys.items() if sent and value == sent), None)
            if api_key_id is None:
                return self._gateway_response("INVALID_API_KEY", request_id)
        if self.throttle is not None and request.method.upper() not in READ_METHODS:
            reason = self.throttle()
            if reason is not None:
                self.throttled += 1
                logger.warning("%s %s: throttled (429): %s", request.method, request.path, reason)
                return self._gateway_response("THROTTLED", request_id)

        raw_body = request.get_data(cache=True)
        if method.validate_params:
            missing = [name for location, name in method.required_params
                       if not self._has_param(request, path_params, location, name)]
            if missing:
                return self._gateway_response(
                    "BAD_REQUEST_PARAMETERS", request_id,
                    message=f"Missing required request parameters: [{', '.join(missing)}]")
        if method.validate_body and method.body_schema is not None:
            errors = self._validate_body(method, raw_body)
            if errors:
                return self._gateway_response("BAD_REQUEST_BODY", request_id,
                                              validation_errors="[" + ", ".join(errors) + "]")

        if method.integration_type == "mock":
            return self._mock_response(method)
        if method.integration_type != "aws_proxy" or method.function is None:
            logger.error("integration type %r of %s %s is not emulated", method.integration_type,
                         method.http_method, method.resource)
            return self._gateway_response("DEFAULT_5XX", request_id)

        event = self._proxy_event(request, raw_body, path, resource, path_params, request_id, extended_id,
                                  api_key=request.headers.get("x-api-key") if api_key_id else None,
                                  api_key_id=api_key_id)
        # the integration timeout counts from the moment a Lambda worker takes the invocation: time queued for one
        # (or for this emulator's invoke threads) is not integration time, as AWS scales Lambda out instead
        started = threading.Event()
        future = self._executor.submit(self._invoke, method.function, event, started.set)
        future.add_done_callback(lambda _f: started.set())
        started.wait()
        try:
            payload, function_error = future.result(timeout=method.timeout)
        except concurrent.futures.TimeoutError:
            logger.error("%s %s: integration timed out after %.1f s", request.method, request.path, method.timeout)
            return self._gateway_response("INTEGRATION_TIMEOUT", request_id)
        except RequestTooLargeException:   # the proxy event is over Lambda's invoke quota
            response = Response(json.dumps({"message": REQUEST_TOO_LONG}), status=413,
                                content_type="application/json")
            response.headers["x-amzn-ErrorType"] = "BadRequestException"
            return response
        except Exception as exc:    # the function could not be invoked (unknown function, worker down): AWS says 500
            logger.error("%s %s: invoking %s failed: %s: %s", request.method, request.path, method.function,
                         type(exc).__name__, exc)
            return self._gateway_response("DEFAULT_5XX", request_id, status=500)
        if function_error:
            logger.error("%s %s: function %s failed (%s): %s", request.method, request.path, method.function,
                         function_error, payload[:2000].decode("utf-8", "replace"))
            return self._gateway_response("DEFAULT_5XX", request_id)
        try:
            return self._proxy_response(payload)
        except MalformedProxyResponse as exc:
            logger.error("%s %s: Execution failed due to configuration error: Malformed Lambda proxy response (%s)",
                         request.method, request.path, exc)
            return self._gateway_response("DEFAULT_5XX", request_id)

    def _invoke(self, function: str, event: dict, on_start: Callable[[], None]) -> tuple[bytes, str | None]:
        if self._invoke_reports_start:
            return self.invoke(function, event, on_start=on_start)
        on_start()
        return self.invoke(function, event)

    @staticmethod
    def _has_param(request: Request, path_params: dict, location: str, name: str) -> bool:
        if location == "query":
            return name in request.args
        if location == "header":
            return name in request.headers
        return bool(path_params.get(name))

    @staticmethod
    def _validate_body(method: Method, raw_body: bytes) -> list[str]:
        if not raw_body.strip():
            return ["Request body is required"] if method.body_required else []
        try:
            document = json.loads(raw_body)
        except ValueError as exc:   # also UnicodeDecodeError
            return [_cut(f"Request body is not valid JSON: {exc}")]
        validator = jsonschema.Draft4Validator(method.body_schema)
        errors = sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), e.message))
        shown = [_validation_message(e) for e in errors[:MAX_VALIDATION_ERRORS]]
        if len(errors) > MAX_VALIDATION_ERRORS:
            shown.append(f"and {len(errors) - MAX_VALIDATION_ERRORS} more")
        return shown

    # ----- events and responses --------------------------------------------------------------------------------------

    def _proxy_event(self, request: Request, raw_body: bytes, path: str, resource: Resource,
                     path_params: dict[str, str], request_id: str, extended_id: str,
                     api_key: str | None, api_key_id: str | None) -> dict:
        header_items = request.environ.get(RAW_HEADERS_KEY) or list(request.headers.items())
        header_items = list(header_items)
        lower_names = {name.lower() for name, _ in header_items}
        if "x-forwarded-for" not in lower_names and request.remote_addr:
            header_items.append(("X-Forwarded-For", request.remote_addr))
        if "x-forwarded-proto" not in lower_names:
            header_items.append(("X-Forwarded-Proto", request.scheme))
        if "x-forwarded-port" not in lower_names:
            header_items.append(("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", ""))))
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in header_items:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, values in request.args.lists():
            query[name] = values[-1]
            multi_query[name] = list(values)

        body, is_base64 = self._event_body(raw_body, request.headers.get("Content-Type", ""))
        epoch_ms = int(time.time() * 1000)
        host = request.headers.get("Host", "")
        return {
            "resource": resource.path,
            "path": path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": self.stage_variables,
            "requestContext": {
                "resourceId": self._resource_id(resource.path),
                "resourcePath": resource.path,
                "httpMethod": request.method.upper(),
                "extendedRequestId": extended_id,
                "requestTime": _request_time(epoch_ms),
                "path": f"/{self.stage}{path}",
                "accountId": self.account_id,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": self.stage,
                "domainPrefix": host.split(":")[0].split(".")[0],
                "requestTimeEpoch": epoch_ms,
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": None,
                    "accountId": None,
                    "cognitoIdentityId": None,
                    "caller": None,
                    "apiKey": api_key,
                    "apiKeyId": api_key_id,
                    "sourceIp": request.remote_addr,
                    "principalOrgId": None,
                    "accessKey": None,
                    "cognitoAuthenticationType": None,
                    "cognitoAuthenticationProvider": None,
                    "userArn": None,
                    "userAgent": request.headers.get("User-Agent"),
                    "user": None,
                },
                "domainName": host,
                "deploymentId": self._resource_id(self.rest_api_id + self.stage),
                "apiId": self.rest_api_id,
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _resource_id(path: str) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]

    def _event_body(self, raw_body: bytes, content_type: str) -> tuple[str | None, bool]:
        if not raw_body:
            return None, False
        if not self.api.is_binary_type(content_type):
            try:
                return raw_body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass
        return base64.b64encode(raw_body).decode("ascii"), True

    @staticmethod
    def _proxy_response(payload: bytes) -> Response:
        try:
            result = json.loads(payload)
        except ValueError as exc:
            raise MalformedProxyResponse(f"not JSON: {exc}") from None
        if not isinstance(result, dict):
            raise MalformedProxyResponse(f"expected an object, got {type(result).__name__}")
        extra = set(result) - PROXY_RESPONSE_KEYS
        if extra:
            logger.warning("Lambda proxy response has unknown keys %s (API Gateway ignores them)", sorted(extra))
        status = result.get("statusCode")
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise MalformedProxyResponse(f"statusCode must be an integer HTTP status, got {status!r}")
        headers = result.get("headers") or {}
        multi_headers = result.get("multiValueHeaders") or {}
        if not isinstance(headers, dict) or not isinstance(multi_headers, dict):
            raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            raise MalformedProxyResponse(f"body must be a string, got {type(body).__name__}")
        data = (body or "").encode("utf-8")
        if result.get("isBase64Encoded") and body:
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedProxyResponse(f"isBase64Encoded body is not base64: {exc}") from None

        response = Response(data, status=status)
        response.headers.pop("Content-Type", None)
        multi_lower = {name.lower() for name in multi_headers}
        for name, value in headers.items():
            if name.lower() not in multi_lower:
                response.headers.add(name, _header_value(value))
        for name, values in multi_headers.items():
            if not isinstance(values, list):
                raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] must be a list")
            for value in values:
                response.headers.add(name, _header_value(value))
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"
        return response

    @staticmethod
    def _mock_response(method: Method) -> Response:
        integration = method.spec.get("x-amazon-apigateway-integration") or {}
        default = (integration.get("responses") or {}).get("default") or {}
        templates = default.get("responseTemplates") or {}
        body = templates.get("application/json", "")
        response = Response(body, status=int(default.get("statusCode", 200)), content_type="application/json")
        for key, value in (default.get("responseParameters") or {}).items():
            prefix = "method.response.header."
            if key.startswith(prefix) and isinstance(value, str) and value.startswith("'") and value.endswith("'"):
                response.headers[key[len(prefix):]] = value[1:-1]
        return response

    def _gateway_response(self, response_type: str, request_id: str, message: str | None = None,
                          validation_errors: str | None = None, status: int | None = None) -> Response:
        default_status, default_message = GATEWAY_RESPONSE_DEFAULTS[response_type]
        default_status = status or default_status
        message = message or default_message
        family = "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX"
        custom = self.api.gateway_responses.get(response_type) or self.api.gateway_responses.get(family) or {}
        status = int(custom.get("statusCode") or default_status)
        template = (custom.get("responseTemplates") or {}).get("application/json")
        context = {
            "error.message": _json_escape(message),
            "error.messageString": json.dumps(message),
            "error.responseType": response_type,
            "error.validationErrorString": _json_escape(validation_errors or ""),
            "requestId": request_id,
            "stage": self.stage,
            "apiId": self.rest_api_id,
            "accountId": self.account_id,
        }
        if template is None:
            text = json.dumps({"message": message})
        else:
            text = _CONTEXT_VAR.sub(lambda m: context.get(m.group(1) or m.group(2), ""), template)
        response = Response(text, status=status, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = ERROR_TYPES.get(response_type, "")
        for key, value in (custom.get("responseParameters") or {}).items():
            prefix = "gatewayresponse.header."
            if key.startswith(prefix) and isinstance(value, str) and value.startswith("'") and value.endswith("'"):
                response.headers[key[len(prefix):]] = value[1:-1]
        return response

    # ----- serving ---------------------------------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 3000) -> ApiServer:
        """Serve on ``host:port`` (0 = any free port) from a daemon thread; ``.shutdown()`` stops it."""
        return serve(self.wsgi_app, host, port, f"apigw-{self.rest_api_id}", self._executor)


def _too_large(request: Request) -> bool:
    """Whether the body is over MAX_PAYLOAD_BYTES. A chunked body (no Content-Length) is read at most that far, then
    handed on as a sized one."""
    if request.content_length is not None:
        return request.content_length > MAX_PAYLOAD_BYTES
    if "wsgi.input_terminated" not in request.environ:
        return False   # no Content-Length and no chunked encoding: no body
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while size <= MAX_PAYLOAD_BYTES:
        chunk = stream.read(min(1 << 20, MAX_PAYLOAD_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_PAYLOAD_BYTES:
        return True
    request.environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    request.environ["CONTENT_LENGTH"] = str(size)
    return False


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedProxyResponse(f"header values must be strings, got {type(value).__name__}")
