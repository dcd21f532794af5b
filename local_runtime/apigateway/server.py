"""The API's HTTP server on loopback (:3000 by default): werkzeug's threaded server, header names kept as sent."""
from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from local_runtime import threads

CONNECTION_THREAD = "apigw-connection"  # the name of each connection's thread
RAW_HEADERS_KEY = "dofs.raw_headers"  # the environ key of the request's headers as the client sent them


def serve(app: Callable, host: str, port: int, name: str,
          executor: concurrent.futures.ThreadPoolExecutor) -> "ApiServer":
    """Serve ``app`` on ``host:port`` (0 = any free port) from a daemon thread; ``.shutdown()`` stops it (and
    ``executor``, the app's invoke threads)."""
    server = _Server(host, port, app, handler=_RawHeaderRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return ApiServer(server, thread, executor)


class _Server(threads.CountedConnectionThreads, ThreadedWSGIServer):
    """werkzeug's threaded server (what ``make_server(threaded=True)`` builds): a thread per connection, whose CPU
    is kept in /_local/stats when it ends (local_runtime/threads.py)."""

    connection_thread = CONNECTION_THREAD


class _RawHeaderRequestHandler(WSGIRequestHandler):
    """Keeps header names as the client sent them (WSGI upper-cases them), as API Gateway passes them on."""

    def make_environ(self) -> dict:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass    # the emulator writes its own access line


class ApiServer:
    """A running emulator: ``url``, ``port``, ``shutdown()``."""

    def __init__(self, server: Any, thread: threading.Thread,
                 executor: concurrent.futures.ThreadPoolExecutor) -> None:
        self._server = server
        self._thread = thread
        self._executor = executor
        self.host = server.host
        self.port = server.server_port
        self.url = f"http://{self.host}:{self.port}"

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)
