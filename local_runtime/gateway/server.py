"""The endpoint's HTTP server (cheroot) on loopback."""
from __future__ import annotations

import threading
from typing import Callable

from local_runtime.gateway.stats import meter_of


class Server:
    """The endpoint's HTTP/1.1 server on loopback (cheroot: keep-alive connections, a thread pool, TCP_NODELAY),
    serving in a daemon thread.

    werkzeug's development server closes the connection after every response, so each AWS call from a Lambda
    worker paid for a TCP connect and a new thread; with keep-alive a worker's boto3 pool reuses its connections.
    Each response leaves in one write where cheroot makes two (:class:`_OneWriteGateway`), and a request's lines
    are cut from the connection's buffer in one step where cheroot's reader goes byte run by byte run
    (:func:`_connection_class`).
    """

    def __init__(self, app: Callable, host: str, port: int, name: str) -> None:
        from cheroot import wsgi

        # request_queue_size: the listen backlog (cheroot's default is 5: a burst of new connections past the sixth
        # had its SYN dropped by the kernel and waited for the client's retry, 1 s later); 128 as werkzeug's
        self._server = wsgi.Server((host, port), app, numthreads=16, max=256, server_name=name,
                                   shutdown_timeout=1, request_queue_size=128)
        self._server.gateway = _one_write_gateway()
        self._server.ConnectionClass = _connection_class()
        self._server.cpu_meter = meter_of(app)  # begin/end around each request a server thread answers, or None
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


def _one_write_gateway() -> type:
    from cheroot import wsgi

    class _OneWriteGateway(wsgi.Gateway_10):
        """cheroot writes a response's headers and its first body chunk to the socket one after the other, in two
        ``send`` calls (two TCP segments on loopback, each a system call here and a wake-up of the reader). They go
        out together, in one: the same bytes at the same moment (the headers are sent only with the first chunk
        anyway, PEP 3333), one system call fewer per response. Later chunks of a streamed body are written as
        before, each as it comes."""

        def write(self, chunk: bytes) -> None:
            request = self.req
            if request.sent_headers:
                return super().write(chunk)
            conn = request.conn
            socket_file, held = conn.wfile, _Held()
            conn.wfile = held
            try:
                super().write(chunk)  # the headers (or cheroot's own 500), then the chunk: into `held`
            finally:
                conn.wfile = socket_file
                if held.parts:
                    socket_file.write(b"".join(held.parts))

    return _OneWriteGateway


class _Held:
    """What cheroot writes to a connection while :class:`_OneWriteGateway` holds it back."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


def _connection_class() -> type:
    """cheroot's connection, reading through :class:`_LineReader` (a plain connection; any other, as cheroot makes
    it)."""
    from cheroot import makefile, server

    class _LineReader(makefile.StreamReader):
        """cheroot's socket reader is Python's pure-Python buffered reader (``_pyio``), whose ``readline`` (one call
        per request line and header line) peeks and reads its buffer a run at a time through several Python calls.
        A line already whole in the buffer is now cut from it in one step: the same bytes, the same position after
        it, the same count of bytes read; a line not yet whole in the buffer is read as before."""

        def readline(self, size: int | None = -1) -> bytes:
            if size is None:
                size = -1
            self._checkClosed("readline of closed file")
            with self._read_lock:
                buffer, start = self._read_buf, self._read_pos
                end = buffer.find(b"\n", start) + 1
                if 0 < end and (size < 0 or end - start <= size):
                    line = buffer[start:end]
                elif 0 <= size <= len(buffer) - start and (end == 0 or end - start > size):
                    line = buffer[start:start + size]
                else:
                    line = None
                if line is not None:
                    self._read_pos = start + len(line)
                    self.bytes_read += len(line)
                    return line
            return super().readline(size)

    def line_reading_file(sock, mode="r", bufsize=makefile.io.DEFAULT_BUFFER_SIZE):
        return _LineReader(sock, mode, bufsize) if "r" in mode else makefile.MakeFile(sock, mode, bufsize)

    class _Connection(server.HTTPConnection):
        make_file = staticmethod(line_reading_file)

        def __init__(self, http_server, sock, makefile=makefile.MakeFile):
            super().__init__(http_server, sock, line_reading_file if makefile is server.MakeFile else makefile)

        def communicate(self):  # one request: parsed, answered, written (cheroot)
            meter = getattr(self.server, "cpu_meter", None)
            if meter is None:
                return super().communicate()
            meter.begin()
            try:
                return super().communicate()
            finally:
                meter.end()

    return _Connection
