"""Times as Step Functions writes and reads them (imports nothing of the engine).

* ``iso``: the context object's and the Distributed Map export's timestamps, ``2024-01-01T00:00:00.000Z``;
* ``parse_timestamp``: the RFC 3339 timestamps of Wait ``Timestamp(Path)`` and the Choice timestamp operators;
* ``epoch_seconds`` / ``epoch_millis``: the API's dates (seconds) and the ``.sync`` integrations' dates (ms).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_FRACTION = re.compile(r"^(.*?\.)(\d+)(.*)$")


def iso(dt: datetime) -> str:
    """``2024-01-01T00:00:00.000Z`` (milliseconds, UTC)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (with an uppercase T and a zone, as the spec requires), else None."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return None
    text = value
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    match = _FRACTION.match(text)
    if match:  # Python accepts at most 6 fraction digits
        text = match.group(1) + match.group(2)[:6].ljust(6, "0") + match.group(3)
    try:
        return datetime.fromisoformat(text.replace("t", "T"))
    except ValueError:
        return None


def epoch_seconds(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


def epoch_millis(dt: datetime | None) -> int | None:
    return None if dt is None else int(round(dt.timestamp() * 1000))


__all__ = ["iso", "parse_timestamp", "epoch_seconds", "epoch_millis"]
