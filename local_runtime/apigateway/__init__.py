"""Amazon API Gateway (REST APIs with Lambda proxy integrations), emulated on its own port (:3000).

* ``models.py``: :class:`RestApi`, the stage's resources and methods read from the swagger body, and routing;
* ``responses.py``: :class:`RestApiEmulator`, what the stage answers each request: API keys, throttling, request
  validation, proxy events and responses, gateway responses;
* ``exceptions.py``: gateway response types and their AWS error codes; a malformed proxy response;
* ``server.py``: the HTTP server on loopback;
* ``api_keys.py``: the template's API keys and the usage plans that let them call a stage.
"""
from local_runtime.apigateway.models import function_from_integration_uri
from local_runtime.apigateway.responses import RestApiEmulator

__all__ = ["RestApiEmulator", "function_from_integration_uri"]
