"""Function logs on the terminal: :class:`Console` writes one readable, coloured line per record (``LOG_FORMAT=text``,
the default; no colour unless the stream is a terminal, none with ``NO_COLOR``) or each event as FilterLogEvents
returns it (``LOG_FORMAT=json``).
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import zlib
from typing import Any, TextIO

from local_runtime.logs.records import LogRecord

LOG_FORMATS = ("text", "json")


def parse_log_format(text: str | None) -> str:
    """``LOG_FORMAT``: text (default) or json."""
    value = (text or "text").strip().lower()
    if value not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {text!r}")
    return value


_RESET = "\033[0m"
_DIM = "\033[2m"
_BOLD = "\033[1m"
_LEVEL_COLOURS = {"ERROR": "\033[1;31m", "CRITICAL": "\033[1;31m", "FATAL": "\033[1;31m", "WARNING": "\033[33m",
                  "WARN": "\033[33m", "DEBUG": _DIM, "METRIC": "\033[35m", "REPORT": _DIM}
_LABEL_COLOURS = ("\033[36m", "\033[32m", "\033[34m", "\033[35m", "\033[96m", "\033[92m", "\033[94m", "\033[95m")
# Powertools Logger keys that every record carries: the terminal shows the others as key=value
_STANDARD_KEYS = frozenset({
    "level", "location", "message", "timestamp", "service", "cold_start", "function_name", "function_memory_size",
    "function_arn", "function_request_id", "xray_trace_id", "sampling_rate", "correlation_id", "exception",
    "exception_name", "stack_trace", "logger",
})
# awslambdaric's text format: [LEVEL]\t<timestamp>\t<request id>\t<message>
_RIC_LINE = re.compile(r"^\[(?P<level>[A-Z]+)\][\t ](?:\d{4}-\d\d-\d\dT\S+\t\S*\t)?(?P<message>.*)$", re.DOTALL)
_REPORT_FIELDS = re.compile(r"(?P<key>[A-Za-z ]+): (?P<value>[^\t]+)")


def _enabled_colour(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _clock(timestamp_ms: int) -> str:
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{millis:03d}"


def _value(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:  # EMF values: Powertools writes a list per metric
        value = value[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def summarise(message: str) -> tuple[str, str, list[str]] | None:
    """(level, text, extra lines) to show for one record, or None for a record the terminal leaves out (Lambda's
    START and END lines: REPORT says the same)."""
    text = message.rstrip("\n")
    if text.startswith(("START RequestId: ", "END RequestId: ")):
        return None
    if text.startswith("REPORT RequestId: "):
        fields = dict((m.group("key").strip(), m.group("value").strip()) for m in _REPORT_FIELDS.finditer(text))
        parts = [f"{fields.get('Duration', '?')} (billed {fields.get('Billed Duration', '?')})",
                 f"max {fields.get('Max Memory Used', '?')} of {fields.get('Memory Size', '?')}"]
        if "Init Duration" in fields:
            parts.append(f"init {fields['Init Duration']}")
        if "Status" in fields:
            parts.append(f"status {fields['Status']}" + (f" {fields['Error Type']}" if "Error Type" in fields else ""))
        level = "ERROR" if "Status" in fields else "REPORT"
        return level, ", ".join(parts), []
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict):
            return _summarise_json(record)
    lines = text.replace("\r", "\n").split("\n")
    match = _RIC_LINE.match(lines[0])
    if match:
        return match.group("level"), match.group("message"), lines[1:]
    if " Task timed out after " in lines[0]:
        return "ERROR", lines[0], lines[1:]
    return "", lines[0], lines[1:]


def _summarise_json(record: dict) -> tuple[str, str, list[str]]:
    emf = record.get("_aws")
    if isinstance(emf, dict) and isinstance(emf.get("CloudWatchMetrics"), list):
        metrics, context = [], []
        for directive in emf["CloudWatchMetrics"]:
            namespace = directive.get("Namespace")
            for metric in directive.get("Metrics") or []:
                name = metric.get("Name")
                value = record.get(name)
                unit = metric.get("Unit")
                metrics.append(f"{name}={_value(value)}" + (f" {unit}" if unit and unit != "None" else ""))
            dimensions = sorted({d for group in directive.get("Dimensions") or [] for d in group})
            context = [namespace] + [f"{d}={record.get(d)}" for d in dimensions]
        return "METRIC", ", ".join(metrics) + f"  ({'; '.join(str(c) for c in context if c)})", []
    level = str(record.get("level") or record.get("levelname") or "")
    message = record.get("message")
    text = message if isinstance(message, str) else _value(message)
    extra = [f"{key}={_value(value)}" for key, value in record.items() if key not in _STANDARD_KEYS]
    if extra:
        text = f"{text}  {' '.join(extra)}"
    lines: list[str] = []
    exception = record.get("exception")
    if isinstance(exception, str):
        lines = exception.rstrip("\n").split("\n")
    return level, text, lines


class Console:
    """Writes each record to ``stream``: one readable line (``text``) or the event as JSON (``json``)."""

    def __init__(self, log_format: str = "text", stream: TextIO | None = None, colour: bool | None = None,
                 label_width: int = 0) -> None:
        self.log_format = parse_log_format(log_format)
        self._stream = stream
        self._colour = colour
        self._lock = threading.Lock()
        self.label_width = label_width  # the runtime sets the longest logical id, so that columns line up

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def format(self, record: LogRecord, colour: bool = False) -> str | None:
        if self.log_format == "json":
            return json.dumps(record.as_event(), ensure_ascii=False)
        summary = summarise(record.message)
        if summary is None:
            return None
        level, text, extra = summary
        label = f"{record.label:<{self.label_width}}"
        level_text = f"{level:<7} "
        if colour:
            label = _LABEL_COLOURS[zlib.crc32(record.label.encode()) % len(_LABEL_COLOURS)] + label + _RESET
            tint = _LEVEL_COLOURS.get(level)
            if tint:
                level_text = tint + level_text + _RESET
                if level in ("REPORT", "DEBUG"):
                    text = tint + text + _RESET
            stamp = _DIM + _clock(record.timestamp) + _RESET
        else:
            stamp = _clock(record.timestamp)
        line = f"{stamp} {label} {level_text}{text}"
        if extra:
            line += "".join(f"\n    {part}" for part in extra if part.strip())
        return line

    def write(self, record: LogRecord) -> None:
        stream = self.stream
        colour = _enabled_colour(stream) if self._colour is None else self._colour
        line = self.format(record, colour)
        if line is None:
            return
        with self._lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass
