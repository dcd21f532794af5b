"""JSON payloads as Step Functions writes and measures them: compact text, the 256 KiB limit, text made once.

The lowest module of the engine with ``failures``, ``timefmt``, ``clock`` and ``scheduler``: it imports nothing of
the engine. Values are plain JSON (dict, list, str, int, float, bool, None) and are never mutated once made, so a
``Payload`` can keep a value and its text side by side.
"""
from __future__ import annotations

import json
from typing import Any

from .. import errors

PAYLOAD_LIMIT = 262144  # bytes of UTF-8: execution input/output, state input/output, task parameters and results

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # built once: dumps runs on every state


def dumps(value: Any) -> str:
    """Compact JSON, as Step Functions writes inputs, outputs and messages."""
    return _COMPACT.encode(value)


def over_limit(text: str) -> bool:
    """More than PAYLOAD_LIMIT bytes of UTF-8 (encoded only when the text could be: <= 4 bytes a character)."""
    return len(text) > PAYLOAD_LIMIT // 4 and len(text.encode()) > PAYLOAD_LIMIT


class Payload:
    """A JSON value with its compact text, made once, when first needed (or given: the text it was read from).

    ``bound``: a size the text cannot exceed, in bytes, when known without making it (a Lambda result is no larger
    than a multiple of the response it was parsed from): within the limit, ``over_limit`` needs no text."""

    __slots__ = ("value", "_text", "bound")

    def __init__(self, value: Any, text: str | None = None, bound: int | None = None) -> None:
        self.value = value
        self._text = text
        self.bound = bound

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = dumps(self.value)
        return self._text

    def over_limit(self) -> bool:
        if self._text is None and self.bound is not None and self.bound <= PAYLOAD_LIMIT:
            return False
        return over_limit(self.text)

    def keep_text_only(self) -> None:
        """Free the value once its text is made (a finished history keeps text only); a payload whose text was never
        needed keeps its value (serialising it would cost more than it frees)."""
        if self._text is not None:
            self.value = None


def parse_execution_input(input_text: Any) -> tuple[str, Any]:
    """StartExecution's (and TestState's) ``input``: a JSON text within the payload limit; ``{}`` when absent."""
    if input_text is None:
        input_text = "{}"
    if not isinstance(input_text, str):
        raise errors.InvalidExecutionInput(f"Invalid State Machine Execution Input: '{input_text}'")
    if over_limit(input_text):
        raise errors.InvalidExecutionInput("Invalid State Machine Execution Input: 'The input exceeds the "
                                           "maximum number of bytes'")
    try:
        return input_text, json.loads(input_text)
    except ValueError as exc:
        raise errors.InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None


__all__ = ["PAYLOAD_LIMIT", "Payload", "dumps", "over_limit", "parse_execution_input"]
