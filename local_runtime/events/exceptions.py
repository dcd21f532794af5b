"""EventBridge's error codes that the runtime raises itself (PutEvents' request errors are the shared
ValidationException; per-entry errors are codes in its answer, not exceptions)."""
from __future__ import annotations

from local_runtime.event_patterns import InvalidEventPatternException

__all__ = ["InvalidEventPatternException"]  # defined with the pattern language it rejects (event_patterns.py)
