"""The one AWS-compatible endpoint (127.0.0.1:4566): each request goes to the service that owns it.

* ``app.py``: :class:`Gateway`, the WSGI application, and :class:`Server`, its HTTP server;
* ``inprocess.py``: botocore clients of the runtime process that call the gateway without a socket.
"""
from local_runtime.gateway.app import CONSOLE_AGENT, IN_PROCESS_KEY, Gateway, RequestCounts, Server, call_wsgi

__all__ = ["CONSOLE_AGENT", "IN_PROCESS_KEY", "Gateway", "RequestCounts", "Server", "call_wsgi"]
