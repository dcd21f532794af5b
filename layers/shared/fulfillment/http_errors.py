"""The one place where domain errors become HTTP answers (status + camelCase JSON body)."""

from fulfillment.errors import FulfillmentError

MAX_MESSAGE = 500  # characters of an error message sent back; messages never echo unbounded input
ERROR_CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 422: "UnprocessableEntity",
               500: "InternalServerError", 502: "BadGateway"}


def error_body(exc: Exception) -> tuple[int, dict]:
    """(status, body) for ``exc``; unexpected errors give 500 without internals."""
    if isinstance(exc, FulfillmentError) and (exc.http_status < 500 or exc.http_status == 502):
        status = exc.http_status
        message = str(exc)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "... (truncated)"
        return status, {"error": ERROR_CODES.get(status, "Error"), "errorType": type(exc).__name__,
                        "message": message}
    return 500, {"error": "InternalServerError", "message": "internal error"}
