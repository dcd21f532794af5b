"""Execution history: AWS GetExecutionHistory events, recorded as the execution runs.

Event details may hold ``Payload`` values (JSON kept as Python objects); they are serialised only when the history
is read, so recording costs little. Values are never mutated after they are recorded (see paths.py).
"""
from __future__ import annotations

import threading
from datetime import datetime
from collections.abc import Container
from typing import Any

from .payloads import Payload


def details_key(event_type: str) -> str:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class History:
    """Thread-safe append-only list of events (Parallel and Map branches record concurrently)."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._events: list[tuple[int, int, datetime, str, dict | None]] = []
        self._lock = threading.Lock()

    def add(self, event_type: str, previous: int, details: dict | None = None, now: datetime | None = None) -> int:
        if now is None:
            now = self._clock.now()
        with self._lock:
            event_id = len(self._events) + 1
            self._events.append((event_id, previous, now, event_type, details))
        return event_id

    def __len__(self) -> int:
        return len(self._events)

    def last_id(self) -> int:
        return len(self._events)

    def previous_of(self, event_id: int) -> int:
        """The previousEventId of event ``event_id`` (0 when there is no such event)."""
        with self._lock:
            return self._events[event_id - 1][1] if 0 < event_id <= len(self._events) else 0

    def types(self) -> list[str]:
        with self._lock:
            return [event[3] for event in self._events]

    def freeze(self) -> None:
        """The execution ended: keep each payload as its JSON text only (what GetExecutionHistory answers), so the
        Python values (parsed task results, inputs) are freed while the history is kept."""
        with self._lock:
            for event in self._events:
                details = event[4]
                if details:
                    for value in details.values():
                        if type(value) is Payload:
                            value.keep_text_only()

    def events(self, include_data: bool = True, start: int = 0, types: Container[str] | None = None) -> list[dict]:
        """Events in the AWS API shape (timestamps as datetimes; the service converts them), from the ``start``-th
        on, only those of ``types`` when given (execution logs: logs/execution_logs.py)."""
        with self._lock:
            snapshot = self._events[start:] if start else list(self._events)
        if types is not None:
            snapshot = [event for event in snapshot if event[3] in types]
        return [_render(event, include_data) for event in snapshot]


_DATA_FIELDS = ("input", "output", "parameters")


def _render(event: tuple, include_data: bool) -> dict:
    event_id, previous, timestamp, event_type, details = event
    out: dict[str, Any] = {"timestamp": timestamp, "type": event_type, "id": event_id, "previousEventId": previous}
    if details is not None:
        rendered = {}
        for key, value in details.items():
            if isinstance(value, Payload):
                if not include_data and key in _DATA_FIELDS:
                    continue
                value = value.text
            elif not include_data and key in _DATA_FIELDS:
                continue
            rendered[key] = value
        out[details_key(event_type)] = rendered
    return out
