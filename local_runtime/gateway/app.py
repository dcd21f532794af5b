"""One AWS-compatible endpoint (127.0.0.1:4566): each request goes to the service that owns it (routes.py).

* ``/_local/health``, ``/_local/outputs``, ``/_local/api-keys`` and ``/_local/stats``: the runtime's own routes;
* ``POST /2015-03-31/functions/{name}/invocations``: Lambda Invoke, served by our worker processes (awslambda/);
* ``X-Amz-Target: AWSStepFunctions.*``: Step Functions, served by our engine (stepfunctions/);
* ``X-Amz-Target: AmazonSQS.{Start,List,Cancel}MessageMoveTask(s)``: DLQ redrive tasks (sqs/; moto has none);
* ``X-Amz-Target: AWSEvents.PutEvents``: EventBridge delivery (events/); calls that change rules drop its cache;
* SNS (query protocol): moto, plus Lambda subscribers and the check of http/https endpoints (sns/);
* ``/_local/console/``: the local console (local_runtime/console/);
* everything else (DynamoDB, SQS, SNS, EventBridge, CloudWatch, ...): moto's server application, in process
  (moto_app.py).

Before any of them, a request from outside the process is checked against botocore's model of its service
(protocols.py): a malformed one gets the AWS-shaped 4xx AWS would give (``SerializationException``,
``UnknownOperationException``, ``ValidationException``, ``InvalidAction``, ...), never reaching a service. An
exception inside moto is answered in the request's protocol too (moto_app.py), never with an empty body.

boto3 and the AWS CLI reach it with ``AWS_ENDPOINT_URL=http://127.0.0.1:4566``.
"""
from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from local_runtime import protocols, threads
from local_runtime.awslambda import responses as lambda_responses
from local_runtime.errors import SerializationException, ServiceError, ServiceUnavailableException
from local_runtime.events import responses as events_responses
from local_runtime.gateway.moto_app import MotoApp
from local_runtime.gateway.routes import ROUTES, Route, route
from local_runtime.gateway.stats import IN_PROCESS_KEY, RequestCounts
from local_runtime.gateway.wsgi import put_back, read_body
from local_runtime.sns import responses as sns_responses
from local_runtime.sqs import responses as sqs_responses
from local_runtime.sqs.models import MessageMoveTasks

log = logging.getLogger("local_runtime.gateway")

# signing names of services that speak only the JSON protocol: a request without X-Amz-Target names no operation
_JSON_SIGNING_NAMES = frozenset({"states", "dynamodb", "events", "logs"})
_STEPFUNCTIONS_JSON = "application/x-amz-json-1.0"


def _without_cors(start_response: Callable) -> Callable:
    """No response of the endpoint carries CORS headers: moto's server would allow any web page open in the user's
    browser to call it (it echoes every Origin, and answers every preflight). SDKs and the CLI need none, and the
    console is served from the endpoint's own origin."""

    def start(status: str, headers: list, exc_info=None):
        kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
        return start_response(status, kept, exc_info) if exc_info is not None else start_response(status, kept)

    return start


class Gateway:
    """The WSGI application behind the endpoint. Services are attached once the runtime has built them; each route of
    routes.ROUTES names the method below that answers it."""

    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self.routes = routes
        self.moto = MotoApp()
        self.lambda_service = None
        self.stepfunctions = None
        self.eventbridge = None  # events.models.EventBridge: PutEvents, rule cache
        self.sns = None  # sns.models.SnsFanout: Lambda subscribers of topics
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
        start_response = _without_cors(start_response)
        chosen, arguments = route(environ, self.routes)
        if chosen.aws:
            refusal = self._refusal(environ)
            if refusal is not None:
                self.requests.add(environ)
                return refusal.response()(environ, start_response)
            if chosen.counted:
                self.requests.add(environ)
        return getattr(self, f"_{chosen.handler}")(environ, start_response, **arguments)

    # -- requests AWS would refuse (protocols.py) -------------------------------------------------------------------
    def _refusal(self, environ: dict) -> protocols.Refusal | None:
        """Why AWS would refuse this request, or None. The runtime's own calls (botocore, in process) are not
        checked; for the others the body is read here and put back for whoever answers."""
        if environ.get(IN_PROCESS_KEY):
            return None
        body = read_body(environ)
        put_back(environ, body)
        refusal = protocols.check_request(environ, body)
        if refusal is not None:
            return refusal
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        signing = protocols.signing_service(environ)
        if signing is None or lambda_responses.INVOKE_PATH.match(environ.get("PATH_INFO", "")):
            return None
        if not target and signing in _JSON_SIGNING_NAMES:
            return protocols.Refusal("UnknownOperationException", "Missing X-Amz-Target: the operation to call")
        if not self.moto.serves(environ):
            return protocols.Refusal("InvalidSignatureException",
                                     f"Credential should be scoped to a valid service: '{signing}' is not served "
                                     f"by this endpoint", protocol=protocols.protocol_of(environ))
        return None

    # -- the routes' handlers ---------------------------------------------------------------------------------------
    def _moto(self, environ: dict, start_response: Callable) -> Any:
        return self.moto(environ, start_response)

    def _console(self, environ: dict, start_response: Callable) -> Any:
        if self.console is None:
            return self._local(environ, start_response)
        return self.console(environ, start_response)

    def _local(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/_local/health":
            response = protocols.json_response(dict(self.status), status=200 if self.ready.is_set() else 503)
        elif path == "/_local/outputs":
            response = protocols.json_response(self.outputs)
        elif path == "/_local/api-keys":
            response = protocols.json_response(self.api_keys)
        elif path == "/_local/stats":
            response = protocols.json_response(self._stats(environ.get("QUERY_STRING", "")))
        else:
            response = protocols.json_response({"message": f"No local route {path}"}, status=404)
        return response(environ, start_response)

    def _stats(self, query: str) -> dict:
        """``GET /_local/stats``: every key, or those ``?include=load,requests`` names (``threadCpuMs`` reads /proc
        for each live thread, about 2 ms with 160 threads: a poller that wants ``load`` need not pay for it)."""
        wanted = {key for value in parse_qs(query).get("include", []) for key in value.split(",") if key}
        parts: dict[str, Callable[[], Any]] = {
            "requests": self.requests.snapshot,
            "cpuMs": self.requests.cpu.snapshot_ms,
            "threadCpuMs": threads.cpu_ms,
            "invocations": lambda: self.lambda_service.invocation_counts() if self.lambda_service is not None else {},
        }
        if self.load is not None:
            parts["load"] = self.load
        return {key: part() for key, part in parts.items() if not wanted or key in wanted}

    def _stepfunctions(self, environ: dict, start_response: Callable, operation: str) -> Any:
        return self._stepfunctions_response(Request(environ), operation)(environ, start_response)

    def _stepfunctions_response(self, request: Request, operation: str) -> Response:
        if self.stepfunctions is None:
            return protocols.service_error_response(ServiceUnavailableException("Step Functions is starting"),
                                                    _STEPFUNCTIONS_JSON)
        try:
            result = self.stepfunctions.handle(operation, protocols.parse_json_object(request.get_data()))
        except ServiceError as exc:
            return protocols.service_error_response(exc, _STEPFUNCTIONS_JSON)
        except ValueError as exc:  # not a UTF-8 JSON object
            return protocols.service_error_response(SerializationException(str(exc)), _STEPFUNCTIONS_JSON)
        return protocols.json_response(result, content_type=_STEPFUNCTIONS_JSON)

    def _sqs_message_move_task(self, environ: dict, start_response: Callable, operation: str) -> Any:
        response = sqs_responses.message_move_task(self.sqs_moves, operation, Request(environ).get_data())
        return response(environ, start_response)

    def _lambda_invoke(self, environ: dict, start_response: Callable, name: str) -> Any:
        if self.lambda_service is None:
            response = protocols.service_error_response(ServiceUnavailableException("Lambda is starting"))
        else:
            response = lambda_responses.invoke(self.lambda_service, Request(environ), name)
        return response(environ, start_response)

    def _put_events(self, environ: dict, start_response: Callable, operation: str) -> Any:
        if self.eventbridge is None:  # not attached yet (start-up): moto alone
            return self._moto(environ, start_response)
        return events_responses.put_events(self.eventbridge, Request(environ).get_data())(environ, start_response)

    def _rule_change(self, environ: dict, start_response: Callable, operation: str) -> Any:
        if self.eventbridge is not None:
            self.eventbridge.invalidate()
        return self._moto(environ, start_response)

    def _sns(self, environ: dict, start_response: Callable) -> Any:
        body = read_body(environ)
        self.requests.add(environ, body)
        if self.sns is None:  # not attached yet (start-up): moto alone
            status, headers, response = self.moto.call(environ, body)
            start_response(status, headers)
            return [response]
        if b"Action=Subscribe" in body or b"Action=Unsubscribe" in body:
            try:
                answer = sns_responses.subscription_call(self.sns, body)
            except ServiceError as exc:  # an http/https endpoint off this machine (sns/models.py)
                return protocols.error_response("query", exc.code, exc.message, exc.status,
                                                service="sns")(environ, start_response)
            if answer is not None:
                start_response("200 OK", [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))])
                return [answer]
        status, headers, response = self.moto.call(environ, body)
        if b"Action=Publish" in body and status.startswith("200"):
            try:
                sns_responses.after_publish(self.sns, body, response)
            except Exception:  # delivery problems are logged; the publish itself succeeded
                log.exception("SNS: fan-out to Lambda subscribers failed")
        start_response(status, headers)
        return [response]
