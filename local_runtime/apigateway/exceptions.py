"""API Gateway's errors: the gateway response types it answers with (their default status and message, and the
``x-amzn-ErrorType`` AWS error code each carries), and the one failure of a Lambda proxy integration it reports as a
502, a malformed proxy response."""
from __future__ import annotations

# Gateway response types: default status and message (API Gateway's documented defaults).
GATEWAY_RESPONSE_DEFAULTS: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "DEFAULT_5XX": (502, "Internal server error"),
    "THROTTLED": (429, "Too Many Requests"),
}
ERROR_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "INVALID_API_KEY": "ForbiddenException",
    "BAD_REQUEST_BODY": "BadRequestException",
    "BAD_REQUEST_PARAMETERS": "BadRequestException",
    "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    "INTEGRATION_FAILURE": "InternalServerErrorException",
    "DEFAULT_5XX": "InternalServerErrorException",
    "THROTTLED": "TooManyRequestsException",
}


class MalformedProxyResponse(Exception):
    """The function's answer is not a valid Lambda proxy response (API Gateway answers 502)."""
