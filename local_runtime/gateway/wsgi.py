"""WSGI helpers of the endpoint: a request's body read once, an application called on it."""
from __future__ import annotations

import io
from typing import Callable


def read_body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def put_back(environ: dict, body: bytes) -> None:
    """The body, already read, made readable again for whoever answers the request."""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def call_wsgi(app: Callable, environ: dict, body: bytes) -> tuple[str, list, bytes]:
    """Run ``app`` on a request whose body was already read; returns (status, headers, body)."""
    environ = dict(environ)
    put_back(environ, body)
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        response = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], response
