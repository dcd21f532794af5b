"""The Lambda Runtime API (2018-06-01), served on loopback to one worker process.

One server per worker: the server knows which process is asking for its next event, so a crash, a timeout or an init
error is charged to the right invocation. awslambdaric's native client keeps its connection alive (HTTP/1.1) and
long-polls ``GET /invocation/next``; its Python fallback posts ``init/error`` on a fresh connection.

Status codes are the ones the runtime client expects: 200 for ``next``, 202 for every post, 400 for an unknown
request id.
"""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from local_runtime import threads

PREFIX = "/2018-06-01/runtime"
NEXT_PATH = f"{PREFIX}/invocation/next"
INIT_ERROR_PATH = f"{PREFIX}/init/error"
INVOCATION_PREFIX = f"{PREFIX}/invocation/"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True)
class NextEvent:
    """What ``GET /invocation/next`` hands the runtime."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str


class RuntimeEndpoint(Protocol):
    """The worker side of the API; every method is called from a server thread."""

    def next_invocation(self) -> NextEvent | None:
        """Block until an invocation is assigned; None when the worker is being shut down."""

    def post_response(self, request_id: str, body: bytes) -> bool:
        """False when request_id is not the invocation in progress."""

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        """False when request_id is not the invocation in progress."""

    def post_init_error(self, body: bytes, error_type: str | None) -> None:
        """The runtime failed to initialise (it exits right after)."""


class _Headers(dict):
    """Request headers by lower-cased name (the few this API reads)."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small request/response pairs: no 40 ms delayed-ACK stalls
    server: RuntimeApiServer

    def parse_request(self) -> bool:
        """The request line and headers, read directly (http.server parses headers with the ``email`` package,
        the largest cost of a Runtime API request)."""
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, f"Bad request line {self.requestline!r}")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        while True:
            line = self.rfile.readline(65537)
            if len(line) > 65536:
                self.send_error(431, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        connection = (headers.get("connection") or "").lower()
        if self.request_version == "HTTP/1.1":
            self.close_connection = connection == "close"
        else:
            self.close_connection = connection != "keep-alive"
        if (headers.get("expect") or "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        return

    def do_GET(self) -> None:
        if self.path != NEXT_PATH:
            self._reply(404, _status_body("InvalidRequest", f"Unknown path {self.path}"))
            return
        event = self.server.endpoint.next_invocation()
        if event is None:
            self._reply(410, _status_body("ShuttingDown", "The execution environment is shutting down"))
            self.close_connection = True
            return
        self._reply(
            200,
            event.payload,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": event.request_id,
                "Lambda-Runtime-Deadline-Ms": str(event.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": event.function_arn,
                "Lambda-Runtime-Trace-Id": event.trace_id,
            },
        )

    def do_POST(self) -> None:
        body = self._read_body()
        endpoint = self.server.endpoint
        error_type = self.headers.get(ERROR_TYPE_HEADER)
        if self.path == INIT_ERROR_PATH:
            endpoint.post_init_error(body, error_type)
            self._reply(202, b'{"status":"OK"}')
            return
        if self.path.startswith(INVOCATION_PREFIX):
            request_id, _, action = self.path[len(INVOCATION_PREFIX):].partition("/")
            if action == "response":
                accepted = endpoint.post_response(request_id, body)
            elif action == "error":
                accepted = endpoint.post_error(request_id, body, error_type)
            else:
                accepted = None
            if accepted:
                self._reply(202, b'{"status":"OK"}')
                return
            if accepted is False:
                self._reply(400, _status_body("InvalidRequestID", f"Invalid request ID: {request_id}"))
                return
        self._reply(404, _status_body("InvalidRequest", f"Unknown path {self.path}"))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        lines = [f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}"]
        lines += [f"{name}: {value}" for name, value in (headers or {"Content-Type": "application/json"}).items()]
        lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)  # one write: headers and body in the same segment


def _status_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


CONNECTION_THREAD = "runtime-api-connection"  # the name of each connection's thread


class RuntimeApiServer(threads.CountedConnectionThreads, ThreadingHTTPServer):
    """A threaded Runtime API server on 127.0.0.1, ephemeral port, serving one endpoint. Each connection's thread
    counts its CPU in /_local/stats as it ends (local_runtime/threads.py)."""

    daemon_threads = True
    allow_reuse_address = False
    connection_thread = CONNECTION_THREAD

    def __init__(self, endpoint: RuntimeEndpoint) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.endpoint = endpoint
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        """A worker killed mid-request resets its connection; that is expected, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self, name: str) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name=f"runtime-api-{name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice, from any thread."""
        with self._stop_lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self.shutdown()
            thread.join()
            self.server_close()
