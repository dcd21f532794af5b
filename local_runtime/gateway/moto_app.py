"""moto's server application as the gateway runs it (:class:`MotoApp`): every service moto serves, in process, with
our fixes to moto applied first (this module's moto-wide ones, then each service's: dynamodb/moto_patches.py,
sqs/moto_patches.py), its backend lookup memoised, and an exception inside moto answered in the request's protocol
(501 ``NotImplemented`` for an operation moto does not implement, else 500 ``InternalFailure``), never with an
empty body. The fixes give the same answers (but for the random strings noted below) for less CPU and memory; each
was found by profiling the runtime process under the order workflow (docs/benchmarks.md):

* Every response's ``x-amzn-RequestId`` (52 characters) was drawn one ``random.choice`` at a time:
  ``get_random_string`` now draws them with one ``choices`` call on the same (seedable) generator (a seeded run
  still repeats itself, but its random strings differ from stock moto's for the same seed).
* moto appends every model object it creates (``BaseModel.__new__``) to a class-level list, for the dashboard of
  its own standalone server (``/moto-api/``, which this runtime does not serve), and never lets go of them. Reads
  create model objects too (a GetItem, Query or Scan deep-copies each item it returns), so a long-running process
  grew with every read: about 0.35 MB per Scan of 220 small items (5 GB after some 14,000 of them). Model objects
  are no longer tracked; the backends still hold everything they store.
* A DynamoDB, DynamoDB Streams, SQS or SNS request to ``POST /`` (where moto's app for each has one route, to its
  handler's ``dispatch``) went through Flask: a request context pushed and popped, URL map matching, flask-cors'
  after-request hook (whose headers the gateway strips anyway), about a tenth of the endpoint's CPU per request
  (a quarter of an SNS Publish's). It is now handed to that ``dispatch``, wrapped as moto's
  ``convert_to_flask_response`` wraps it (moto's request class, its recorder, a botocore ``ClientError`` answered
  400, a werkzeug HTTP exception answered as itself), and its answer returned as the same Flask ``Response``. The
  form-encoded query protocol (SNS, SQS's older one) is parsed by moto's request class, not by Flask, so it reads
  the same either way. Every other request (other services, other methods or paths, such as SNS's signing
  certificate) still goes through Flask.
* ``BaseResponse.call_action`` listed a handler class's methods with ``inspect.getmembers`` and converted the action
  name with regular expressions on every request: both are pure functions of their argument, now memoised.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from werkzeug.wrappers import Response

from local_runtime import protocols
from local_runtime.dynamodb import moto_patches as dynamodb_patches
from local_runtime.gateway.wsgi import call_wsgi
from local_runtime.locks import once
from local_runtime.sqs import moto_patches as sqs_patches

log = logging.getLogger("local_runtime.gateway")



class MotoApp:
    """moto's server application (``DomainDispatcherApplication``), built once the fixes are applied."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        apply_patches()
        self.app = DomainDispatcherApplication(create_backend_app)
        _memoize_backend_lookup(self.app)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        try:
            backend_app = self.app.get_application(environ)
            service = getattr(backend_app, "service", None)
            if service in _WITHOUT_FLASK and environ.get("PATH_INFO") == "/" and \
                    environ.get("REQUEST_METHOD") == "POST":
                return _view(service, environ)(environ, start_response)
            return backend_app(environ, start_response)
        except Exception as exc:
            return failure(environ, exc)(environ, start_response)

    def call(self, environ: dict, body: bytes) -> tuple[str, list, bytes]:
        """moto's answer to a request whose body was already read: (status, headers, body)."""
        try:
            return call_wsgi(self, environ, body)
        except Exception as exc:
            response = failure(environ, exc)
            return response.status, list(response.headers.items()), response.get_data()

    def serves(self, environ: dict) -> bool:
        """Whether moto has a backend for the service the request names (by its host or credential scope)."""
        try:
            host = self.app.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
            return host is None or self.app.get_backend_for_host(host) is not None
        except Exception:  # moto cannot tell: let it answer (and __call__ catch what it raises)
            return True


_WITHOUT_FLASK = {  # service -> its moto handler class, whose dispatch is the view of POST / in moto's app
    "dynamodb": ("moto.dynamodb.responses", "DynamoHandler"),
    "dynamodbstreams": ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    "sqs": ("moto.sqs.responses", "SQSResponse"),
    "sns": ("moto.sns.responses", "SNSResponse"),
}


def _view(service: str, environ: dict) -> Any:
    """What moto's Flask app answers to ``POST /`` on ``service``, without Flask (see the module docstring)."""
    import importlib

    from botocore.exceptions import ClientError
    from flask import Response as FlaskResponse
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest
    from werkzeug.exceptions import HTTPException

    module, name = _WITHOUT_FLASK[service]
    handler = getattr(importlib.import_module(module), name)
    request = BackendRequest(environ)
    try:
        recorder._record_request(request)  # noqa: SLF001 - as convert_to_flask_response does
        result = handler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        result = 400, {}, exc.response["Error"]["Message"]
    except HTTPException as exc:  # moto's errors are werkzeug HTTP exceptions: Flask answers them as themselves
        return exc
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    return FlaskResponse(response=content, status=status, headers=headers)


def failure(environ: dict, exc: Exception) -> Response:
    """What the endpoint answers when moto raised ``exc`` on a request."""
    protocol = protocols.protocol_of(environ)
    if isinstance(exc, NotImplementedError):
        return protocols.error_response(protocol, "NotImplemented", f"Not implemented by the local runtime "
                                        f"(moto): {exc}", status=501, sender=False)
    log.exception("moto failed on %s %s (%s)", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                  environ.get("HTTP_X_AMZ_TARGET", ""))
    return protocols.error_response(protocol, "InternalFailure", f"The local runtime failed on this request: "
                                    f"{type(exc).__name__}", status=500, sender=False)


# hosts whose backend is remembered: the host names a service and the request's region (both chosen by the client,
# from its credential scope), so the memo is bounded; the runtime's own traffic uses a handful of hosts
BACKEND_LOOKUP_CACHE = 256


def _memoize_backend_lookup(dispatcher: Any) -> None:
    """moto's dispatcher resolves the backend of every request with ``host in list_of_moto_modules()``, a
    directory listing plus a stat per entry of moto's package, under its global lock. The answer for a host never
    changes while the process runs: remember it for the last ``BACKEND_LOOKUP_CACHE`` hosts asked (same routing,
    without the file system on each request, and no growth with every region a client names)."""
    dispatcher.get_backend_for_host = functools.lru_cache(maxsize=BACKEND_LOOKUP_CACHE)(
        dispatcher.get_backend_for_host)


@once
def apply_patches() -> None:
    """Every fix to moto, once per process (idempotent)."""
    _memoise_dispatch()
    _random_strings_in_one_draw()
    _untracked_model_instances()
    dynamodb_patches.apply()
    sqs_patches.apply()


def _memoise_dispatch() -> None:
    from moto.core import responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)
    responses.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(responses.camelcase_to_underscores)


def _random_strings_in_one_draw() -> None:
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    MotoRandom.get_random_string = get_random_string


def _untracked_model_instances() -> None:
    from moto.core.common_models import BaseModel

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign,assignment]
