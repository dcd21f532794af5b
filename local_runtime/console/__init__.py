"""The local console at ``/_local/console/`` of the endpoint: state machines, executions, orders and queues in a
browser, like the AWS Step Functions, DynamoDB and SQS consoles (``docs/console.md``).

The page is plain ES modules (``static/``) plus one library, elkjs, that lays out the graphs; npm installs it from
``package-lock.json`` into ``node_modules/`` (``make install``) and this app serves it: nothing is fetched from
elsewhere at run time. The browser reads the runtime through the AWS APIs the endpoint serves, via two same-origin
routes, so that it needs neither SigV4 nor CORS:

* ``POST api/aws`` ``{"service", "operation", "params"}``: one call of an allow-listed AWS operation with boto3
  (Step Functions, DynamoDB, SQS), answered with the operation's response as JSON (dates as epoch seconds);
* ``POST api/app`` ``{"method", "path", "body", "key"}``: one request to the stack's own API (``ApiUrl``) with the
  API key named by its logical id (the approval buttons send ``ReviewerApiKey``'s value, as a reviewer would);
* ``GET api/config``: outputs, API key names, TIME_SCALE; ``GET api/express`` and ``api/express/execution``: the
  Express executions the console recorded (``express.py``; AWS keeps them only in CloudWatch Logs).

Secure by default: the endpoint is bound to 127.0.0.1; the API routes answer only requests whose Host is a loopback
name and whose Origin, if any, is this very endpoint, and their POSTs must carry ``X-DOFS-Console: 1`` (a header a
page of another origin cannot send without a CORS preflight, which is never granted). The console calls nothing
outside this process but the stack's API on loopback.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import re
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from botocore.exceptions import ClientError, ParamValidationError
from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from local_runtime.console.express import ExpressRecord
from local_runtime.gateway import CONSOLE_AGENT  # noqa: F401 - in the User-Agent of the console's AWS calls

log = logging.getLogger("local_runtime.console")

PREFIX = "/_local/console"
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
# the vendored files the page loads, by the name it asks for
VENDOR = {"elk.bundled.js": NODE_MODULES / "elkjs" / "lib" / "elk.bundled.js"}

# What the console may call: reads, plus the actions the AWS consoles offer on these pages.
ALLOWED = {
    "stepfunctions": {"ListStateMachines", "DescribeStateMachine", "ListExecutions", "DescribeExecution",
                      "GetExecutionHistory", "DescribeStateMachineForExecution", "StartExecution", "StopExecution"},
    "dynamodb": {"ListTables", "DescribeTable", "Scan", "Query", "GetItem"},
    "sqs": {"ListQueues", "GetQueueAttributes", "ReceiveMessage", "ListDeadLetterSourceQueues",
            "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask"},
}
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
_APP_PATH = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body, default=_default), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, set):
        return sorted(value)
    return str(value)


class Console:
    """The WSGI application of ``/_local/console/``.

    ``client(service)``: a boto3 client of this endpoint; ``gateway``: the endpoint (its ``outputs``, ``api_keys``
    and ``status``); ``express``: the record of Express executions.
    """

    def __init__(self, client: Callable[[str], Any], gateway: Any, express: ExpressRecord,
                 app_timeout: float = 30.0) -> None:
        self.client = client
        self.gateway = gateway
        self.express = express
        self.app_timeout = app_timeout

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        try:
            response = self.route(request)
        except Exception:  # noqa: BLE001 - a console bug answers 500 with its message, never kills the endpoint
            log.exception("console: %s %s failed", request.method, request.path)
            response = _json({"error": {"Code": "InternalError", "Message": "the console failed; see the log"}}, 500)
        return response(environ, start_response)

    # -- routing ----------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path[len(PREFIX):]
        if path == "":
            return Response(status=308, headers={"Location": f"{PREFIX}/"})
        if path.startswith("/api/"):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            return self.api(request, path[len("/api/"):])
        if request.method not in ("GET", "HEAD"):
            return _json({"error": {"Code": "MethodNotAllowed", "Message": "GET only"}}, 405)
        if path == "/":
            return self._file(STATIC / "index.html")
        if path.startswith("/static/"):
            target = safe_join(str(STATIC), path[len("/static/"):])
            return self._file(Path(target)) if target else self._missing(path)
        if path.startswith("/vendor/"):
            name = path[len("/vendor/"):]
            if name not in VENDOR:
                return self._missing(path)
            if not VENDOR[name].is_file():
                return Response(f"// {name} is not installed: run `make install` (npm ci in local_runtime/console)\n"
                                f"throw new Error('{name} is not installed: run make install');\n",
                                status=503, content_type="text/javascript")
            return self._file(VENDOR[name])
        return self._missing(path)

    def _refusal(self, request: Request) -> Response | None:
        """None when the request may use the API: loopback Host, same-origin Origin, the console's header on POST."""
        host = request.host or ""
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if hostname not in _LOOPBACK_HOSTS:
            return _json({"error": {"Code": "Forbidden", "Message": f"host {host!r} is not a loopback name"}}, 403)
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{host}":
            return _json({"error": {"Code": "Forbidden", "Message": f"origin {origin!r} is not this console"}}, 403)
        if request.method == "POST" and request.headers.get("X-DOFS-Console") != "1":
            return _json({"error": {"Code": "Forbidden", "Message": "missing X-DOFS-Console: 1"}}, 403)
        if request.method not in ("GET", "POST"):
            return _json({"error": {"Code": "MethodNotAllowed", "Message": "GET or POST"}}, 405)
        return None

    @staticmethod
    def _missing(path: str) -> Response:
        return _json({"error": {"Code": "NotFound", "Message": f"No console route {path}"}}, 404)

    @staticmethod
    def _file(path: Path) -> Response:
        if not path.is_file():
            return _json({"error": {"Code": "NotFound", "Message": f"No console file {path.name}"}}, 404)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix in (".js", ".mjs"):
            content_type = "text/javascript"
        response = Response(path.read_bytes(), content_type=content_type)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # -- the API ----------------------------------------------------------------------------------------------------

    def api(self, request: Request, name: str) -> Response:
        if name == "config" and request.method == "GET":
            return _json(self.config())
        if name == "aws" and request.method == "POST":
            return self.aws(_body(request))
        if name == "app" and request.method == "POST":
            return self.app(_body(request))
        if name == "express" and request.method == "GET":
            arn = request.args.get("stateMachineArn", "")
            return _json({"executions": self.express.list(arn)})
        if name == "express/execution" and request.method == "GET":
            record = self.express.get(request.args.get("executionArn", ""))
            if record is None:
                return _json({"error": {"Code": "ExecutionDoesNotExist",
                                        "Message": "no Express execution of that ARN is recorded"}}, 404)
            return _json(record)
        return self._missing(f"/api/{name}")

    def config(self) -> dict:
        status = self.gateway.status or {}
        keys = {name: {"description": key.get("description", ""), "routes": key.get("routes", []),
                       "usable": key.get("usable", False)} for name, key in (self.gateway.api_keys or {}).items()}
        return {"stack": status.get("stack"), "timeScale": status.get("timeScale", 1),
                "parameters": status.get("parameters", {}), "outputs": self.gateway.outputs or {}, "apiKeys": keys,
                "expressRecordLimit": self.express.limit}

    def aws(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object {service, operation, params}")
        service, operation, params = body.get("service"), body.get("operation"), body.get("params") or {}
        if operation not in ALLOWED.get(service, ()):
            return _json({"error": {"Code": "AccessDenied",
                                    "Message": f"the console does not call {service}:{operation}"}}, 403)
        if not isinstance(params, dict):
            return _bad("params must be a JSON object")
        from botocore import xform_name

        client = self.client(service)
        try:
            result = getattr(client, xform_name(operation))(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
            return _json({"error": {"Code": error.get("Code"), "Message": error.get("Message")}}, status)
        except ParamValidationError as exc:
            return _bad(str(exc))
        result.pop("ResponseMetadata", None)
        return _json(result)

    def app(self, body: Any) -> Response:
        """One request to the stack's API with one of its keys: what a client of the app would send."""
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object {method, path, body, key}")
        method, path, key_name = body.get("method", "GET"), body.get("path", ""), body.get("key")
        base = (self.gateway.outputs or {}).get("ApiUrl")
        if not base:
            return _json({"error": {"Code": "NotFound", "Message": "this stack has no ApiUrl output"}}, 404)
        if method not in ("GET", "POST") or not isinstance(path, str) or not _APP_PATH.match(path) or ".." in path:
            return _bad("method must be GET or POST and path a relative path of the API (orders/ID/approval)")
        keys = self.gateway.api_keys or {}
        if key_name is not None and key_name not in keys:
            return _bad(f"unknown API key {key_name!r}; the stack has {', '.join(sorted(keys)) or 'none'}")
        data = None if method == "GET" else json.dumps(body.get("body") or {}).encode()
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if key_name is not None:
            request.add_header("x-api-key", keys[key_name]["value"])
        try:
            with urllib.request.urlopen(request, timeout=self.app_timeout) as answer:  # noqa: S310 - loopback ApiUrl
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        except OSError as exc:
            return _json({"error": {"Code": "ApiUnreachable", "Message": str(exc)}}, 502)
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        return _json({"status": status, "body": parsed})


def _body(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        return None


def _bad(message: str) -> Response:
    return _json({"error": {"Code": "ValidationException", "Message": message}}, 400)
