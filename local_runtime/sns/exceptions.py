"""SNS's error codes (query protocol: ``<ErrorResponse><Error><Code>``)."""
from __future__ import annotations

from local_runtime.errors import ServiceError


class InvalidParameter(ServiceError):
    """A parameter SNS refuses (here: an http/https endpoint the runtime may not call)."""
