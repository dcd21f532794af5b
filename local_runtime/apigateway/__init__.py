"""Amazon API Gateway (REST APIs with Lambda proxy integrations), emulated on its own port (:3000).

* ``responses.py``: :class:`RestApiEmulator`, the stage's WSGI application: routes, API keys, throttling, request
  validation, proxy events and responses, gateway responses;
* ``api_keys.py``: the template's API keys and the usage plans that let them call a stage.
"""
from local_runtime.apigateway.responses import RestApiEmulator, function_from_integration_uri

__all__ = ["RestApiEmulator", "function_from_integration_uri"]
