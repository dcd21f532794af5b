"""The endpoint's HTTP server (cheroot) on loopback."""
from __future__ import annotations

import threading
from typing import Callable


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
