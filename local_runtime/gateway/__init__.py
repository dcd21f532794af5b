"""The one AWS-compatible endpoint (127.0.0.1:4566): each request goes to the service that owns it.

* ``routes.py``: the route table (path, method, ``X-Amz-Target`` service and operations, signing service -> handler);
* ``app.py``: :class:`Gateway`, the WSGI application: protocol checks (protocols.py), then the route's handler;
* ``moto_app.py``: moto's server application in process, with our fixes to moto;
* ``stats.py``: the requests counted for ``/_local/stats``, by caller and operation;
* ``server.py``: :class:`Server`, the HTTP server on loopback;
* ``inprocess.py``: botocore clients of the runtime process that call the gateway without a socket;
* ``wsgi.py``: a request's body read once, an application called on it.
"""
from local_runtime.gateway.app import Gateway
from local_runtime.gateway.server import Server
from local_runtime.gateway.stats import CONSOLE_AGENT, IN_PROCESS_KEY, RequestCounts

__all__ = ["CONSOLE_AGENT", "IN_PROCESS_KEY", "Gateway", "RequestCounts", "Server"]
