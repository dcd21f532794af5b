"""botocore clients of the runtime process that reach the endpoint's WSGI application without a socket.

The engine's service tasks, the SQS and DynamoDB-stream pollers and the SNS/EventBridge targets call services that
live in this very process (moto behind :class:`local_runtime.gateway.Gateway`). Over loopback HTTP each call paid
for a socket, a server thread, HTTP parsing on both sides and urllib3's pool. :class:`InProcessSession` stands in
for botocore's HTTP session: it turns the prepared request into a WSGI environ (the one the werkzeug server would
build: same method, path, query, headers, Host) and calls the application directly. Everything above the transport
is unchanged: botocore still serialises and parses; the gateway and moto still route and answer as for any client.
Clients outside the process (Lambda workers, users) keep using HTTP.

The one step skipped is SigV4's signature (:class:`_UnsignedV4`): no one in this process checks it (the gateway
checks only requests from outside the process, moto checks no signatures), so an in-process request carries the
headers a SigV4 signer writes (``X-Amz-Date``, the session token, an ``Authorization`` with the same credential
scope, which the gateway and moto route and count by) with a zero signature, without the canonical request and the
HMAC chain: about a fifth of the client's CPU per call (docs/benchmarks.md section 10). S3's signers (which also
write the payload hash S3 reads) and any other signer are kept as they are.
"""
from __future__ import annotations

import io
import logging
import sys
from typing import Any, Callable
from urllib.parse import unquote_to_bytes, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.compat import get_current_datetime
from botocore.awsrequest import AWSResponse
from botocore.exceptions import NoCredentialsError

from local_runtime.gateway.stats import IN_PROCESS_KEY, meter_of
from local_runtime.gateway.wsgi import call_wsgi

log = logging.getLogger("local_runtime.inprocess")


class _RawBody:
    """The ``raw`` of an :class:`AWSResponse`: what botocore reads a (streaming or not) body from."""

    def __init__(self, body: bytes) -> None:
        self._stream = io.BytesIO(body)

    def stream(self, amt: int = 1024 * 64, decode_content: bool = True):
        while True:
            chunk = self._stream.read(amt)
            if not chunk:
                return
            yield chunk

    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        return self._stream.read() if amt is None else self._stream.read(amt)

    def close(self) -> None:
        self._stream.close()

    def release_conn(self) -> None:
        pass


class InProcessSession:
    """A botocore HTTP session (``send(request) -> AWSResponse``) that calls a WSGI application in this process."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self._meter = meter_of(app)  # each call metered as a request (gateway/stats.py), or None

    def send(self, request: Any) -> AWSResponse:
        parts = urlsplit(request.url)
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = body.read()
        host = parts.hostname or "127.0.0.1"
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            # as a WSGI server passes it: percent-decoded, bytes carried as latin-1
            "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
            "QUERY_STRING": parts.query,
            "RAW_URI": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            "REQUEST_URI": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            "SERVER_NAME": host,
            "SERVER_PORT": str(parts.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "0",
            "HTTP_HOST": parts.netloc,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            IN_PROCESS_KEY: True,  # counted as the runtime's own call in /_local/stats
        }
        for name, value in request.headers.items():
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key == "CONTENT_LENGTH":
                continue  # the body's own length (set by call_wsgi)
            else:
                environ[f"HTTP_{key}"] = value
        meter = self._meter
        if meter is not None:
            meter.begin()
        try:
            status_line, header_list, payload = call_wsgi(self.app, environ, body)
        except Exception:  # what a WSGI server answers when the application raises
            log.exception("in-process request %s %s failed", request.method, request.url)
            status_line, header_list = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")]
            payload = b"<h1>Internal Server Error</h1>"
        finally:
            if meter is not None:
                meter.end()
        headers: dict[str, str] = {}
        for name, value in header_list:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        status = int(status_line.split(" ", 1)[0])
        return AWSResponse(request.url, status, headers, _RawBody(payload))

    def close(self) -> None:
        pass


_ZERO_SIGNATURE = "0" * 64


class _UnsignedV4(SigV4Auth):
    """SigV4's headers with a zero signature (see the module docstring): the ``X-Amz-Date``, token and
    ``Authorization`` credential scope :class:`SigV4Auth` writes, without its canonical request and HMACs."""

    def __init__(self, auth: SigV4Auth) -> None:
        super().__init__(auth.credentials, auth._service_name, auth._region_name)  # noqa: SLF001

    def add_auth(self, request: Any) -> None:
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)  # drops an old Authorization; X-Amz-Date, the token
        request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.scope(request)}, "
                                            f"SignedHeaders=host;x-amz-date, Signature={_ZERO_SIGNATURE}")


def attach(client: Any, app: Callable) -> Any:
    """Make a botocore client send its requests to ``app`` in this process; returns the client."""
    client._endpoint.http_session = InProcessSession(app)
    signer = client._request_signer  # noqa: SLF001 - botocore's signer of this client
    make_auth = signer.get_auth_instance

    def get_auth_instance(*args: Any, **kwargs: Any) -> Any:
        auth = make_auth(*args, **kwargs)
        return _UnsignedV4(auth) if type(auth) is SigV4Auth else auth

    signer.get_auth_instance = get_auth_instance
    return client
