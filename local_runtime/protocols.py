"""What the endpoint checks before a service sees a request, and AWS's error shapes per protocol.

AWS answers a request it cannot read with a 4xx in the service's own protocol; the services behind our endpoint
(moto, our Step Functions and EventBridge code) assume requests that botocore serialised, and a malformed one made
them crash (500, empty body). :func:`check_request` rejects what AWS's front door rejects, using botocore's models
of the services the local runtime documents (docs/local-runtime.md, "Requests the endpoint refuses"):

* JSON 1.0/1.1 (``X-Amz-Target: <prefix>.<Operation>``: Step Functions, DynamoDB, DynamoDB Streams, SQS, EventBridge,
  CloudWatch Logs, CloudWatch): an operation the model does not have -> ``UnknownOperationException``; a body that
  is not UTF-8 JSON, not an object, nested too deep, or whose members have the wrong JSON type for the model ->
  ``SerializationException``; a required member missing -> ``ValidationException``.
* Query (form-encoded ``Action=...``: SNS, SQS, CloudWatch): no ``Action`` -> ``MissingAction``, an action the
  model does not have -> ``InvalidAction``, a body that is not UTF-8 -> ``MalformedQueryString``.
* A request signed for a service the endpoint does not serve -> ``InvalidSignatureException`` (the credential scope
  names a service this endpoint is not).

:func:`error_response` renders an error the way botocore parses it for that protocol: JSON ``{"__type", "message"}``
with ``x-amzn-ErrorType`` and ``application/x-amz-json-1.x``; query ``<ErrorResponse><Error><Type><Code><Message>``
in XML; rest-json ``{"Type", "message"}`` with ``x-amzn-ErrorType``. Every answer has an ``x-amzn-RequestId``.
"""
from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from local_runtime.errors import ServiceError

MAX_DEPTH = 128  # JSON nesting a request may have (DynamoDB's own limit, 32 levels of attribute values, fits)

# botocore names of the services whose requests are checked; the endpoint serves them (docs/local-runtime.md)
CHECKED_SERVICES = ("stepfunctions", "dynamodb", "dynamodbstreams", "sqs", "sns", "events", "logs", "cloudwatch",
                    "lambda")
QUERY_SIGNING_NAMES = {"sns": "sns", "sqs": "sqs", "monitoring": "cloudwatch"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_QUERY_NAMESPACES = {"sns": "http://sns.amazonaws.com/doc/2010-03-31/",
                     "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
                     "cloudwatch": "http://monitoring.amazonaws.com/doc/2010-08-01/"}


@dataclass
class Refusal:
    """A request refused before any service saw it: what to answer, in which protocol."""

    code: str
    message: str
    protocol: str = "json"  # json | query | rest-json
    status: int = 400
    json_version: str = "1.0"
    service: str = ""

    def response(self) -> Response:
        return error_response(self.protocol, self.code, self.message, self.status, self.json_version, self.service)


def error_response(protocol: str, code: str, message: str, status: int = 400, json_version: str = "1.0",
                   service: str = "", sender: bool = True) -> Response:
    request_id = str(uuid.uuid4())
    if protocol == "query":
        namespace = _QUERY_NAMESPACES.get(service, "")
        xmlns = f' xmlns="{namespace}"' if namespace else ""
        body = (f'<?xml version="1.0"?><ErrorResponse{xmlns}><Error><Type>{"Sender" if sender else "Receiver"}'
                f"</Type><Code>{escape(code)}</Code><Message>{escape(_NOT_XML.sub('?', message))}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        response = Response(body, status=status, content_type="text/xml")
    elif protocol == "rest-json":
        response = Response(json.dumps({"Type": "User" if sender else "Service", "message": message}),
                            status=status, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = code
    else:
        response = Response(json.dumps({"__type": code, "message": message}), status=status,
                            content_type=f"application/x-amz-json-{json_version}")
        response.headers["x-amzn-ErrorType"] = code
    response.headers["x-amzn-RequestId"] = request_id
    return response


def json_response(body: Any, status: int = 200, headers: dict | None = None,
                  content_type: str = "application/json") -> Response:
    """A JSON answer (``default=str``: datetimes as text), with an ``x-amzn-RequestId``."""
    response = Response(json.dumps(body, default=str), status=status, content_type=content_type)
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def service_error_response(exc: ServiceError, content_type: str = "application/json") -> Response:
    """A ServiceError in the JSON protocols (``{"__type", "message"}``, ``x-amzn-ErrorType``)."""
    return json_response(exc.to_json(), status=exc.status, headers={"x-amzn-ErrorType": exc.code},
                         content_type=content_type)


# -- the models ---------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _model(service: str) -> Any:
    return _session().get_service_model(service)


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.lru_cache(maxsize=1)
def _target_prefixes() -> dict[str, str]:
    """``X-Amz-Target`` prefix -> botocore service name, for the checked JSON services."""
    out = {}
    for service in CHECKED_SERVICES:
        prefix = _model(service).metadata.get("targetPrefix")
        if prefix:
            out[prefix] = service
    return out


@functools.lru_cache(maxsize=None)
def _operations(service: str) -> frozenset[str]:
    return frozenset(_model(service).operation_names)


def operation_names(service: str) -> frozenset[str]:
    """Every operation botocore's model of ``service`` has (for example to dispatch only those)."""
    return _operations(service)


def json_version(service: str) -> str:
    return _model(service).metadata.get("jsonVersion") or "1.0"


def protocol_of(environ: dict) -> str:
    """The protocol a request speaks, to answer it in kind: json (X-Amz-Target or a JSON body), query (a form), else
    rest-json."""
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or "x-amz-json" in content_type:
        return "json"
    if "x-www-form-urlencoded" in content_type:
        return "query"
    return "rest-json"


def shown(text: str, limit: int = 100) -> str:
    """Input quoted in an error message: never unbounded."""
    return text if len(text) <= limit else text[:limit] + "..."


def signing_service(environ: dict) -> str | None:
    """The service of a SigV4 request's credential scope, lower case: the fourth field of the ``Credential``
    parameter of ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...``;
    None when the header has no such parameter (unsigned, another scheme, a malformed scope)."""
    scheme, _, parameters = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if not scheme.startswith("AWS4-"):
        return None
    for parameter in parameters.split(","):
        name, _, value = parameter.strip().partition("=")
        if name == "Credential":
            scope = value.split("/")
            if len(scope) != 5 or scope[4] != "aws4_request" or not scope[3]:
                return None
            return scope[3].lower()
    return None


# -- checks -------------------------------------------------------------------------------------------------------

def check_request(environ: dict, body: bytes) -> Refusal | None:
    """A refusal for a request AWS would not accept, or None to let the service answer it."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.partition(".")
        service = _target_prefixes().get(prefix)
        if service is None:
            return None  # not one of ours: the service behind it answers (moto), as it does without checks
        version = json_version(service)
        if operation not in _operations(service):
            return Refusal("UnknownOperationException", f"Unknown operation {shown(operation)}" if operation else
                           "Missing operation in X-Amz-Target", json_version=version)
        return check_json_body(service, operation, body, version)
    signing = signing_service(environ)
    service = QUERY_SIGNING_NAMES.get(signing or "")
    if service is not None and environ.get("REQUEST_METHOD") == "POST" and not _is_cbor(environ):
        return check_query(service, environ, body)
    return None


def _is_cbor(environ: dict) -> bool:
    return "cbor" in environ.get("CONTENT_TYPE", "") or environ.get("PATH_INFO", "").startswith("/service/")


def check_query(service: str, environ: dict, body: bytes) -> Refusal | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal("MalformedQueryString", "The request body is not valid UTF-8", protocol="query",
                       service=service)
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    params.update(parse_qsl(text, keep_blank_values=True))
    action = params.get("Action")
    if not action:
        return Refusal("MissingAction", "The request must contain the parameter Action", protocol="query",
                       service=service)
    if action not in _operations(service):
        return Refusal("InvalidAction", f"The action {shown(action)} is not valid for this web service", protocol="query",
                       service=service)
    return None


def parse_json_object(body: bytes) -> dict:
    """A JSON protocol request body: UTF-8 JSON, an object (an empty body means ``{}``), nested at most MAX_DEPTH.
    Raises ValueError with AWS's kind of message (the caller answers SerializationException)."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("The request body is not valid UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("The request body is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"Start of structure or map expected, found {_json_type(value)}")
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"The request body is nested more than {MAX_DEPTH} levels deep")
    return value


def check_json_body(service: str, operation: str, body: bytes, version: str = "1.0") -> Refusal | None:
    try:
        value = parse_json_object(body)
    except ValueError as exc:
        return Refusal("SerializationException", str(exc), json_version=version)
    shape = _model(service).operation_model(operation).input_shape
    if shape is None:
        return None
    problem = _check_shape(shape, value)
    if problem is None:
        return None
    code, message = problem
    return Refusal(code, message, json_version=version)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return deepest


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_EXPECTED = {"structure": "an object", "map": "an object", "list": "an array", "string": "a string",
             "boolean": "a boolean", "blob": "a base64 string", "integer": "an integer", "long": "an integer",
             "float": "a number", "double": "a number", "timestamp": "a number or a string"}


def _type_ok(type_name: str, value: Any) -> bool:
    if type_name in ("structure", "map"):
        return isinstance(value, dict)
    if type_name == "list":
        return isinstance(value, list)
    if type_name in ("string", "blob"):
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if type_name in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "timestamp":
        return isinstance(value, (int, float, str)) and not isinstance(value, bool)
    return True


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _check_shape(root: Any, value: Any) -> tuple[str, str] | None:
    """(code, message) of the first type mismatch (SerializationException) or, failing that, the missing required
    members (ValidationException, AWS's wording); None when the value fits the shape. Unknown members are ignored,
    null members count as absent (as AWS's JSON deserialisers read them). Iterative: no recursion limit."""
    missing: list[str] = []
    stack = [(root, value, "")]
    while stack:
        shape, item, path = stack.pop()
        if item is None:
            continue
        type_name = shape.type_name
        if getattr(shape, "is_document_type", False):
            continue
        if not _type_ok(type_name, item):
            where = f" at '{path}'" if path else ""
            return ("SerializationException",
                    f"Expected {_EXPECTED.get(type_name, type_name)}{where}, found {_json_type(item)}")
        if type_name == "structure":
            for name in shape.required_members:
                if item.get(name) is None:
                    missing.append(f"{path}.{_lower_first(name)}" if path else _lower_first(name))
            for name, member in shape.members.items():
                if name in item:
                    stack.append((member, item[name], f"{path}.{name}" if path else name))
        elif type_name == "list":
            member = shape.member
            stack.extend((member, element, f"{path}[{i}]") for i, element in enumerate(item))
        elif type_name == "map":
            for key, element in item.items():
                stack.append((shape.value, element, f"{path}.{key}"))
    if missing:
        count = len(missing)
        details = "; ".join(f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
                            for name in missing)
        return ("ValidationException", f"{count} validation error{'s' if count > 1 else ''} detected: {details}")
    return None
