"""What the other services call Lambda through: :class:`Invoke` and the :class:`InvokeResult` it returns."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InvokeResult:
    payload: bytes  # the function's response, or Lambda's error envelope JSON
    function_error: str | None  # None on success, "Unhandled" on error (as X-Amz-Function-Error)
    request_id: str
    status_code: int = 200  # 202 for InvocationType=Event
