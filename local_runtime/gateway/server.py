"""The endpoint's HTTP server (cheroot) on loopback."""
from __future__ import annotations

import threading
from typing import Callable


class Server:
    """The endpoint's HTTP/1.1 server on loopback (cheroot: keep-alive connections, a thread pool, TCP_NODELAY),
    serving in a daemon thread.

    werkzeug's development server closes the connection after every response, so each AWS call from a Lambda
    worker paid for a TCP connect and a new thread; with keep-alive a worker's boto3 pool reuses its connections.
    Each response leaves in one write where cheroot makes two (:class:`_OneWriteGateway`).
    """

    def __init__(self, app: Callable, host: str, port: int, name: str) -> None:
        from cheroot import wsgi

        self._server = wsgi.Server((host, port), app, numthreads=16, max=256, server_name=name,
                                   shutdown_timeout=1)
        self._server.gateway = _one_write_gateway()
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
