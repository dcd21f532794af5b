"""EventBridge's error codes that the runtime raises itself (PutEvents' request errors are the shared
ValidationException; per-entry errors are codes in its answer, not exceptions)."""
from __future__ import annotations

from local_runtime.errors import ServiceError


class InvalidEventPatternException(ServiceError, ValueError):
    """The pattern is not a valid EventBridge pattern."""
