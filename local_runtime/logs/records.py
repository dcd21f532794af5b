"""A function's log event as it travels from a Lambda worker to its sinks (the terminal, CloudWatch Logs)."""
from __future__ import annotations

from collections.abc import Callable

LogSink = Callable[["LogRecord"], None]  # where a worker sends each record


class LogRecord:
    """One log event of a function: what CloudWatch stores (group, stream, timestamp in ms, message) and the name
    the terminal shows (``label``: the template's logical id)."""

    __slots__ = ("label", "group", "stream", "timestamp", "message")

    def __init__(self, label: str, group: str, stream: str, timestamp: int, message: str) -> None:
        self.label = label
        self.group = group
        self.stream = stream
        self.timestamp = timestamp
        self.message = message

    def as_event(self) -> dict:
        """The event as FilterLogEvents returns it (plus its group)."""
        return {"logGroupName": self.group, "logStreamName": self.stream, "timestamp": self.timestamp,
                "message": self.message}
