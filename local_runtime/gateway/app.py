"""One AWS-compatible endpoint (127.0.0.1:4566): each request goes to the service that owns it.

* ``/_local/health``, ``/_local/outputs``, ``/_local/api-keys`` and ``/_local/stats``: the runtime's own routes;
* ``POST /2015-03-31/functions/{name}/invocations``: Lambda Invoke, served by our worker processes;
* ``X-Amz-Target: AWSStepFunctions.*``: Step Functions, served by our engine;
* ``X-Amz-Target: AmazonSQS.{Start,List,Cancel}MessageMoveTask(s)``: DLQ redrive tasks (sqs/; moto has none);
* ``/_local/console/``: the local console (local_runtime/console/);
* everything else (DynamoDB, SQS, SNS, EventBridge, CloudWatch, ...): moto's server application, in process.

Before any of them, a request from outside the process is checked against botocore's model of its service
(protocols.py): a malformed one gets the AWS-shaped 4xx AWS would give (``SerializationException``,
``UnknownOperationException``, ``ValidationException``, ``InvalidAction``, ...), never reaching a service. An
exception inside moto is answered in the request's protocol too (501 ``NotImplemented`` for an operation moto does
not implement, else 500 ``InternalFailure``), never with an empty body.

boto3 and the AWS CLI reach it with ``AWS_ENDPOINT_URL=http://127.0.0.1:4566``.
"""
from __future__ import annotations

import io
import json
import logging
import re
import threading
import uuid
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

from local_runtime import protocols
from local_runtime.errors import SerializationException, ServiceError, ServiceUnavailableException
from local_runtime.sqs.exceptions import InvalidParameterValue, SqsError
from local_runtime.sqs.models import ACTIONS as SQS_MOVE_ACTIONS, MessageMoveTasks

log = logging.getLogger("local_runtime.gateway")

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_SCOPE_SERVICE = re.compile(r"Credential=[^/,]*/[^/,]*/[^/,]*/(?P<service>[^/,]+)/aws4_request")
_FORM_ACTION = re.compile(rb"(?:^|&)Action=(?P<action>[A-Za-z0-9]+)")
CONSOLE_AGENT = "dofs-console"  # in the User-Agent of the console's calls (local_runtime/console)
IN_PROCESS_KEY = "dofs.in_process"  # set in the environ of the runtime's own calls (local_runtime.gateway.inprocess)
# signing names of services that speak only the JSON protocol: a request without X-Amz-Target names no operation
_JSON_SIGNING_NAMES = frozenset({"states", "dynamodb", "events", "logs"})


def _without_cors(start_response: Callable) -> Callable:
    """No response of the endpoint carries CORS headers: moto's server would allow any web page open in the user's
    browser to call it (it echoes every Origin, and answers every preflight). SDKs and the CLI need none, and the
    console is served from the endpoint's own origin."""

    def start(status: str, headers: list, exc_info=None):
        kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
        return start_response(status, kept, exc_info) if exc_info is not None else start_response(status, kept)

    return start


class RequestCounts:
    """The requests the endpoint served, by caller and operation (what ``GET /_local/stats`` reports).

    caller: ``console`` (the console's calls, local_runtime/console), ``runtime`` (the runtime's own calls: the
    engine's service tasks, event-source pollers, targets),
    ``lambda`` (a Lambda worker: botocore puts the function's ``AWS_EXECUTION_ENV`` in its User-Agent) or
    ``other`` (users, tests, the AWS CLI). operation: the ``X-Amz-Target`` (``DynamoDB_20120810.GetItem``),
    ``Lambda.Invoke``, ``<service>.<Action>`` for form-encoded calls (SNS), else ``<service> <METHOD> /<first path
    segment>[/...]``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}

    @staticmethod
    def caller(environ: dict) -> str:
        if CONSOLE_AGENT in environ.get("HTTP_USER_AGENT", ""):
            return "console"
        if environ.get(IN_PROCESS_KEY):
            return "runtime"
        return "lambda" if "exec-env/AWS_Lambda_" in environ.get("HTTP_USER_AGENT", "") else "other"

    @staticmethod
    def operation(environ: dict, body: bytes | None = None) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target
        path = environ.get("PATH_INFO", "")
        if _INVOKE_PATH.match(path):
            return "Lambda.Invoke"
        match = _SCOPE_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group("service") if match else "unsigned"
        action = _FORM_ACTION.search(body) if body else None
        if action:
            return f"{service}.{action.group('action').decode()}"
        head, _, rest = path.lstrip("/").partition("/")  # the first segment only: ids and keys would not end
        return f"{service} {environ.get('REQUEST_METHOD', '')} /{head}{'/...' if rest else ''}"

    def add(self, environ: dict, body: bytes | None = None) -> None:
        caller, operation = self.caller(environ), self.operation(environ, body)
        with self._lock:
            by_operation = self._counts.setdefault(caller, {})
            by_operation[operation] = by_operation.get(operation, 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {caller: dict(sorted(ops.items())) for caller, ops in sorted(self._counts.items())}


def _json_response(body: Any, status: int = 200, headers: dict | None = None, content_type: str = "application/json"):
    response = Response(json.dumps(body, default=str), status=status, content_type=content_type)
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _memoize_backend_lookup(dispatcher: Any) -> None:
    """moto's dispatcher resolves the backend of every request with ``host in list_of_moto_modules()``, a
    directory listing plus a stat per entry of moto's package, under its global lock. The answer for a host never
    changes while the process runs: remember it (same routing, without the file system on each request)."""
    lookup = dispatcher.get_backend_for_host
    cache: dict = {}

    def get_backend_for_host(host: str | None) -> Any:
        try:
            return cache[host]
        except KeyError:
            backend = cache[host] = lookup(host)
            return backend

    dispatcher.get_backend_for_host = get_backend_for_host


class Gateway:
    """The WSGI application behind the endpoint. Services are attached once the runtime has built them."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from local_runtime.gateway.moto_app import apply_patches

        apply_patches()
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        _memoize_backend_lookup(self.moto_app)
        self.lambda_service = None
        self.stepfunctions = None
        self.eventbridge = None  # eventbridge.EventBridge: PutEvents, rule cache
        self.sns = None  # sns.SnsFanout: Lambda subscribers of topics
        self.outputs: dict[str, Any] = {}
        self.api_keys: dict[str, Any] = {}  # logical id -> {"id", "value", "enabled", "usable"}
        self.ready = threading.Event()
        self.status: dict[str, Any] = {"status": "starting"}
        self.requests = RequestCounts()
        self.sqs_moves = MessageMoveTasks()
        self.console = None  # console.Console: the WSGI app of /_local/console/ (attached by the runtime)
        self.load: Callable[[], dict] | None = None  # runtime load for /_local/stats (running executions, 429s)

    # -- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        return self._serve(environ, _without_cors(start_response))

    def _serve(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local/console") and self.console is not None:
            return self.console(environ, start_response)
        if path.startswith("/_local/"):
            return self._local(Request(environ))(environ, start_response)
        refusal = self._refusal(environ)
        if refusal is not None:
            self.requests.add(environ)
            return refusal.response()(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST" and "/sns/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            return self._sns(environ, start_response)  # counted there, with the Action of its body
        self.requests.add(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AWSStepFunctions."):
            return self._stepfunctions(Request(environ), target.split(".", 1)[1])(environ, start_response)
        if target.startswith("AmazonSQS.") and target[len("AmazonSQS."):] in SQS_MOVE_ACTIONS:
            return self._sqs_move(Request(environ), target[len("AmazonSQS."):])(environ, start_response)
        match = _INVOKE_PATH.match(path)
        if match and environ.get("REQUEST_METHOD") == "POST":
            return self._invoke(Request(environ), match.group("name"))(environ, start_response)
        if target.startswith("AWSEvents.") and self.eventbridge is not None:
            return self._events(environ, start_response, target.split(".", 1)[1])
        return self._moto(environ, start_response)

    # -- requests AWS would refuse, and moto's failures (protocols.py) ------------------------------------------
    def _refusal(self, environ: dict) -> protocols.Refusal | None:
        """Why AWS would refuse this request, or None. The runtime's own calls (botocore, in process) are not
        checked; for the others the body is read here and put back for whoever answers."""
        if environ.get(IN_PROCESS_KEY):
            return None
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        refusal = protocols.check_request(environ, body)
        if refusal is not None:
            return refusal
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        signing = protocols.signing_service(environ)
        if signing is None or _INVOKE_PATH.match(environ.get("PATH_INFO", "")):
            return None
        if not target and signing in _JSON_SIGNING_NAMES:
            return protocols.Refusal("UnknownOperationException", "Missing X-Amz-Target: the operation to call")
        if not self._moto_serves(environ):
            return protocols.Refusal("InvalidSignatureException",
                                     f"Credential should be scoped to a valid service: '{signing}' is not served "
                                     f"by this endpoint", protocol=protocols.protocol_of(environ))
        return None

    def _moto_serves(self, environ: dict) -> bool:
        try:
            host = self.moto_app.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
            return host is None or self.moto_app.get_backend_for_host(host) is not None
        except Exception:  # moto cannot tell: let it answer (and _moto catch what it raises)
            return True

    def _moto(self, environ: dict, start_response: Callable) -> Any:
        try:
            return self.moto_app(environ, start_response)
        except Exception as exc:
            return self._moto_failure(environ, exc)(environ, start_response)

    def _call_moto(self, environ: dict, body: bytes) -> tuple[str, list, bytes]:
        try:
            return call_wsgi(self.moto_app, environ, body)
        except Exception as exc:
            response = self._moto_failure(environ, exc)
            return response.status, list(response.headers.items()), response.get_data()

    @staticmethod
    def _moto_failure(environ: dict, exc: Exception) -> Response:
        protocol = protocols.protocol_of(environ)
        if isinstance(exc, NotImplementedError):
            return protocols.error_response(protocol, "NotImplemented", f"Not implemented by the local runtime "
                                            f"(moto): {exc}", status=501, sender=False)
        log.exception("moto failed on %s %s (%s)", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                      environ.get("HTTP_X_AMZ_TARGET", ""))
        return protocols.error_response(protocol, "InternalFailure", f"The local runtime failed on this request: "
                                        f"{type(exc).__name__}", status=500, sender=False)

    # -- services moto stores but we deliver for ------------------------------------------------------------
    def _events(self, environ: dict, start_response: Callable, action: str) -> Any:
        if action == "PutEvents":
            request = Request(environ)
            try:
                result = self.eventbridge.put_events(protocols.parse_json_object(request.get_data()))
            except ServiceError as exc:
                return self._error(exc, "application/x-amz-json-1.1")(environ, start_response)
            except ValueError as exc:
                return self._error(SerializationException(str(exc)), "application/x-amz-json-1.1")(environ,
                                                                                                start_response)
            return _json_response(result, content_type="application/x-amz-json-1.1")(environ, start_response)
        from local_runtime.events.models import RULE_CHANGING_ACTIONS

        if action in RULE_CHANGING_ACTIONS:
            self.eventbridge.invalidate()
        return self._moto(environ, start_response)

    def _sns(self, environ: dict, start_response: Callable) -> Any:
        body = _read_body(environ)
        self.requests.add(environ, body)
        if self.sns is None:  # not attached yet (start-up): moto alone
            status, headers, response = self._call_moto(environ, body)
            start_response(status, headers)
            return [response]
        if b"Action=Subscribe" in body or b"Action=Unsubscribe" in body:
            try:
                answer = self.sns.handle_subscription_call(body)
            except ServiceError as exc:  # an http/https endpoint off this machine (sns/models.py)
                return protocols.error_response("query", exc.code, exc.message, exc.status,
                                                service="sns")(environ, start_response)
            if answer is not None:
                start_response("200 OK", [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))])
                return [answer]
        status, headers, response = self._call_moto(environ, body)
        if b"Action=Publish" in body and status.startswith("200"):
            try:
                self.sns.after_publish(body, response)
            except Exception:  # delivery problems are logged; the publish itself succeeded
                log.exception("SNS: fan-out to Lambda subscribers failed")
        start_response(status, headers)
        return [response]

    def _local(self, request: Request) -> Response:
        if request.path == "/_local/health":
            body = dict(self.status)
            return _json_response(body, status=200 if self.ready.is_set() else 503)
        if request.path == "/_local/outputs":
            return _json_response(self.outputs)
        if request.path == "/_local/api-keys":
            return _json_response(self.api_keys)
        if request.path == "/_local/stats":
            service = self.lambda_service
            body = {"requests": self.requests.snapshot(),
                    "invocations": service.invocation_counts() if service is not None else {}}
            if self.load is not None:
                body["load"] = self.load()
            return _json_response(body)
        return _json_response({"message": f"No local route {request.path}"}, status=404)

    def _stepfunctions(self, request: Request, action: str) -> Response:
        if self.stepfunctions is None:
            return self._error(ServiceUnavailableException("Step Functions is starting"), "application/x-amz-json-1.0")
        try:
            body = protocols.parse_json_object(request.get_data())
            result = self.stepfunctions.handle(action, body)
        except ServiceError as exc:
            return self._error(exc, "application/x-amz-json-1.0")
        except ValueError as exc:  # not a UTF-8 JSON object
            return self._error(SerializationException(str(exc)), "application/x-amz-json-1.0")
        return _json_response(result, content_type="application/x-amz-json-1.0")

    def _sqs_move(self, request: Request, action: str) -> Response:
        content_type = "application/x-amz-json-1.0"
        try:
            body = json.loads(request.get_data() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
            result = self.sqs_moves.handle(action, body)
        except ValueError as exc:
            error = InvalidParameterValue(f"Malformed request: {exc}")
            return _json_response(error.to_json(), status=400, headers=error.headers(), content_type=content_type)
        except SqsError as exc:
            return _json_response(exc.to_json(), status=exc.status, headers=exc.headers(), content_type=content_type)
        return _json_response(result, content_type=content_type)

    def _invoke(self, request: Request, name: str) -> Response:
        if self.lambda_service is None:
            return self._error(ServiceUnavailableException("Lambda is starting"))
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        try:
            result = self.lambda_service.invoke(name, request.get_data(), invocation_type=invocation_type)
        except ServiceError as exc:
            return self._error(exc)
        response = Response(result.payload, status=result.status_code, content_type="application/json")
        response.headers["x-amzn-RequestId"] = result.request_id
        response.headers["X-Amz-Executed-Version"] = "$LATEST"
        if result.function_error:
            response.headers["X-Amz-Function-Error"] = result.function_error
        return response

    @staticmethod
    def _error(exc: ServiceError, content_type: str = "application/json") -> Response:
        return _json_response(
            exc.to_json(), status=exc.status, headers={"x-amzn-ErrorType": exc.code}, content_type=content_type
        )


def _read_body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def call_wsgi(app: Callable, environ: dict, body: bytes) -> tuple[str, list, bytes]:
    """Run ``app`` on a request whose body was already read; returns (status, headers, body)."""
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        response = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], response


class Server:
    """The endpoint's HTTP/1.1 server on loopback (cheroot: keep-alive connections, a thread pool, TCP_NODELAY),
    serving in a daemon thread.

    werkzeug's development server closes the connection after every response, so each AWS call from a Lambda
    worker paid for a TCP connect and a new thread; with keep-alive a worker's boto3 pool reuses its connections.
    """

    def __init__(self, app: Callable, host: str, port: int, name: str) -> None:
        from cheroot import wsgi

        self._server = wsgi.Server((host, port), app, numthreads=16, max=256, server_name=name,
                                   shutdown_timeout=1)
        # cheroot keeps at most 10 idle keep-alive connections by default and closes the others after their
        # response; the Lambda workers' and the runtime's pools hold more than that, so each call past the tenth
        # paid for a new TCP connection. Loopback only: no limit (and no selector count per response).
        self._server.keep_alive_conn_limit = None
        self._server.prepare()            # binds now: port 0 gets its ephemeral port here
        self.host = host
        self.port = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "Server":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=5)
