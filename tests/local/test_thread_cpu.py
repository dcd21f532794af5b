"""The per-connection threads of the Lambda Runtime API and the API server count their CPU as they end
(local_runtime/threads.py count_ended): /_local/stats threadCpuMs keeps it after the thread is gone."""
from __future__ import annotations

import socket


def _connect_and_close(port: int) -> None:
    socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_the_api_servers_connection_thread_counts_itself_as_it_ends(ended):
    from concurrent.futures import ThreadPoolExecutor

    from local_runtime.apigateway.server import serve

    server = serve(lambda environ, start_response: [], "127.0.0.1", 0, "apigw-threads-test", ThreadPoolExecutor(1))
    try:
        _connect_and_close(server.port)
        assert "apigw-connection" in ended.wait("apigw-connection")
    finally:
        server.shutdown()


def test_the_runtime_apis_connection_thread_counts_itself_as_it_ends(ended):
    from local_runtime.awslambda.runtime_api import RuntimeApiServer

    server = RuntimeApiServer(endpoint=None)
    server.start("threads-test")
    try:
        _connect_and_close(server.server_address[1])
        assert "runtime-api-connection" in ended.wait("runtime-api-connection")
    finally:
        server.stop()
