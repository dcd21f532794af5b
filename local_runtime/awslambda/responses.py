"""Lambda's Invoke at the endpoint (rest-json ``POST /2015-03-31/functions/{FunctionName}/invocations``): the request
read, :meth:`LambdaService.invoke` called, its result answered as Lambda answers it (the function's payload with
its status, ``X-Amz-Function-Error`` on a function error, ``X-Amz-Executed-Version``), an error as a JSON error."""
from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from local_runtime.errors import ServiceError
from local_runtime.protocols import service_error_response

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")


def invoke(service: Any, request: Request, name: str) -> Response:
    """``service``: the LambdaService; ``name``: the FunctionName of the path (a name or an ARN)."""
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    try:
        result = service.invoke(name, request.get_data(), invocation_type=invocation_type)
    except ServiceError as exc:
        return service_error_response(exc)
    response = Response(result.payload, status=result.status_code, content_type="application/json")
    response.headers["x-amzn-RequestId"] = result.request_id
    response.headers["X-Amz-Executed-Version"] = "$LATEST"
    if result.function_error:
        response.headers["X-Amz-Function-Error"] = result.function_error
    return response
