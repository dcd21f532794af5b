"""botocore clients of the runtime process that reach the endpoint's WSGI application without a socket.

The engine's service tasks, the SQS and DynamoDB-stream pollers and the SNS/EventBridge targets call services that
live in this very process (moto behind :class:`local_runtime.gateway.Gateway`). Over loopback HTTP each call paid
for a socket, a server thread, HTTP parsing on both sides and urllib3's pool. :class:`InProcessSession` stands in
for botocore's HTTP session: it turns the prepared request into a WSGI environ (the one the werkzeug server would
build: same method, path, query, headers, Host) and calls the application directly. Everything above the transport
is unchanged: botocore still serialises, signs and parses; the gateway and moto still route, authenticate and answer
as for any client. Clients outside the process (Lambda workers, users) keep using HTTP.
"""
from __future__ import annotations

import io
import logging
import sys
from typing import Any, Callable
from urllib.parse import unquote_to_bytes, urlsplit

from botocore.awsrequest import AWSResponse

from local_runtime.gateway.stats import IN_PROCESS_KEY
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
        try:
            status_line, header_list, payload = call_wsgi(self.app, environ, body)
        except Exception:  # what a WSGI server answers when the application raises
            log.exception("in-process request %s %s failed", request.method, request.url)
            status_line, header_list = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")]
            payload = b"<h1>Internal Server Error</h1>"
        headers: dict[str, str] = {}
        for name, value in header_list:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        status = int(status_line.split(" ", 1)[0])
        return AWSResponse(request.url, status, headers, _RawBody(payload))

    def close(self) -> None:
        pass


def attach(client: Any, app: Callable) -> Any:
    """Make a botocore client send its requests to ``app`` in this process; returns the client."""
    client._endpoint.http_session = InProcessSession(app)
    return client
