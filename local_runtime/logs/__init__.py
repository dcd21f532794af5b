"""Function logs as Lambda keeps them: in CloudWatch Logs at the local endpoint, and one line per record on the
terminal.

Every line a worker prints is one log event of its log stream: group ``/aws/lambda/<function name>``, stream
``YYYY/MM/DD/[$LATEST]<32 hex digits>``, one stream per worker as one per execution environment on AWS. The
worker adds Lambda's platform lines (``START``, ``END``, ``REPORT``: awslambda/worker.py).

:class:`CloudWatchShipper` keeps the hot path cheap: a record is appended to a deque; one background thread sends
what gathered, about once a second, with one PutLogEvents per log stream (in batches of at most 10,000 events and
1 MiB, in time order). In the runtime it writes to moto's logs backend of the same process (:class:`MotoLogs`), the
one the endpoint serves: a PutLogEvents through botocore and moto's HTTP layer, even in process, cost about 2.5 ms
of CPU, directly about 20 us (measured), and the runtime writes one per log stream each second. :class:`Console` writes one readable, coloured line
per record (``LOG_FORMAT=text``, the default; no colour unless the stream is a terminal, none with ``NO_COLOR``)
or each event as FilterLogEvents returns it (``LOG_FORMAT=json``).
"""
from __future__ import annotations

import collections
import json
import logging
import os
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any, TextIO

log = logging.getLogger("local_runtime.logs")

LOG_FORMATS = ("text", "json")
# PutLogEvents quotas: 10,000 events and 1,048,576 bytes (each event's UTF-8 message plus 26 bytes) per call
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES  # a longer message is cut, as Lambda splits it


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


def parse_log_format(text: str | None) -> str:
    """``LOG_FORMAT``: text (default) or json."""
    value = (text or "text").strip().lower()
    if value not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {text!r}")
    return value


# -- terminal -------------------------------------------------------------------------------------------------------

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


# -- CloudWatch Logs ------------------------------------------------------------------------------------------------


class CloudWatchShipper:
    """Sends log events to CloudWatch Logs in batches from one background thread; ``add`` is all the caller pays.

    ``client``: a callable returning a CloudWatch Logs client (the runtime's in-process one). A log group that does
    not exist is created on first use (as Lambda creates its function's group), without retention.
    """

    def __init__(self, client: Callable[[], Any], interval: float = 1.0) -> None:
        self._client_factory = client
        self._client = None
        self.interval = interval
        self._pending: collections.deque = collections.deque()
        self._streams: set[tuple[str, str]] = set()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._warned = False
        self.sent = 0  # events accepted by PutLogEvents so far

    def add(self, group: str, stream: str, timestamp: int, message: str) -> None:
        self._pending.append((group, stream, timestamp, message))

    def add_record(self, record: LogRecord) -> None:
        self._pending.append((record.group, record.stream, record.timestamp, record.message))

    def start(self) -> "CloudWatchShipper":
        self._thread = threading.Thread(target=self._run, name="cloudwatch-logs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Send what is pending, then stop the thread."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Send every pending event now; returns how many were sent."""
        with self._flush_lock:
            batch = []
            pending = self._pending
            while pending:
                batch.append(pending.popleft())
            if not batch:
                return 0
            by_stream: dict[tuple[str, str], list[dict]] = {}
            for group, stream, timestamp, message in batch:
                encoded = message.encode("utf-8", errors="replace")
                if len(encoded) > MAX_EVENT_BYTES:
                    message = encoded[:MAX_EVENT_BYTES].decode("utf-8", errors="ignore")
                by_stream.setdefault((group, stream), []).append({"timestamp": timestamp, "message": message})
            sent = 0
            for (group, stream), events in by_stream.items():
                events.sort(key=lambda event: event["timestamp"])  # PutLogEvents wants them in time order
                for chunk in _chunks(events):
                    sent += self._put(group, stream, chunk)
            self.sent += sent
            return sent

    def _logs(self):
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _put(self, group: str, stream: str, events: list[dict]) -> int:
        logs = self._logs()
        try:
            if (group, stream) not in self._streams:
                self._create_stream(logs, group, stream)
            response = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except Exception as exc:  # noqa: BLE001 - logging must never break the runtime: say so once
            self._streams.discard((group, stream))
            self._warn(f"{len(events)} events for {group} not stored: {exc}")
            return 0
        rejected = (response or {}).get("rejectedLogEventsInfo")
        if rejected:
            self._warn(f"CloudWatch Logs refused some events of {group} ({rejected}): too old or too new")
        return len(events)

    def _warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("CloudWatch Logs: %s", message)

    def _create_stream(self, logs, group: str, stream: str) -> None:
        errors = logs.exceptions
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except errors.ResourceNotFoundException:
            try:
                logs.create_log_group(logGroupName=group)
            except errors.ResourceAlreadyExistsException:
                pass
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except errors.ResourceAlreadyExistsException:
            pass
        self._streams.add((group, stream))


def _chunks(events: list[dict]) -> Iterable[list[dict]]:
    chunk: list[dict] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8", errors="replace")) + EVENT_OVERHEAD_BYTES
        if chunk and (len(chunk) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(event)
        size += event_size
    if chunk:
        yield chunk


class MotoLogs:
    """The calls CloudWatchShipper makes, answered by moto's CloudWatch Logs backend of this process: the store the
    endpoint serves (FilterLogEvents, GetLogEvents see the events), with its own checks (an unknown group or stream,
    events more than 14 days old or 2 hours ahead), without serialising a request and parsing it back."""

    def __init__(self, account_id: str, region: str) -> None:
        from moto.logs import exceptions
        from moto.logs.models import logs_backends

        self._backend = logs_backends[account_id][region]

        class _Exceptions:
            ResourceNotFoundException = exceptions.ResourceNotFoundException
            ResourceAlreadyExistsException = exceptions.ResourceAlreadyExistsException

        self.exceptions = _Exceptions

    def create_log_group(self, logGroupName: str) -> None:  # noqa: N803 - boto3's parameter names
        self._backend.create_log_group(logGroupName, {})

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:  # noqa: N803
        self._backend.create_log_stream(logGroupName, logStreamName)

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict]) -> dict:  # noqa: N803
        _, rejected = self._backend.put_log_events(logGroupName, logStreamName, logEvents)
        return {"rejectedLogEventsInfo": rejected} if rejected else {}


class LogRouter:
    """The sink the Lambda workers write to: the terminal and, when there is one, CloudWatch Logs."""

    def __init__(self, console: Console | None, shipper: CloudWatchShipper | None = None) -> None:
        self.console = console
        self.shipper = shipper

    def __call__(self, record: LogRecord) -> None:
        if self.shipper is not None:
            self.shipper.add_record(record)
        if self.console is not None:
            self.console.write(record)
