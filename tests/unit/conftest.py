"""Every unit test runs with sockets off: a connection or a listening socket fails the test."""
import socket

import pytest


@pytest.fixture(autouse=True)
def _sockets_off(monkeypatch):
    """Unit tests touch nothing: any attempt to connect, or to bind a server, fails the test."""

    def refuse(*args, **kwargs):
        raise RuntimeError("network access in a unit test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
