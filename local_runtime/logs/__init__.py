"""CloudWatch Logs, as the runtime writes to it: the functions' logs (to moto's logs backend and the terminal) and the
state machines' execution logs. moto serves the Logs API itself (groups, streams, FilterLogEvents, ...).

* ``records.py``: :class:`LogRecord`, one function log event, and ``LogSink``, where a worker sends it;
* ``terminal.py``: :class:`Console`, one readable line per record on the terminal (``LOG_FORMAT``);
* ``cloudwatch.py``: :class:`CloudWatchShipper` (batched PutLogEvents), :class:`MotoLogs`, :class:`LogRouter`;
* ``execution_logs.py``: Step Functions execution logs, by the state machine's ``LoggingConfiguration``.
"""
from local_runtime.logs.cloudwatch import MAX_BATCH_EVENTS, CloudWatchShipper, LogRouter, MotoLogs
from local_runtime.logs.records import LogRecord, LogSink
from local_runtime.logs.terminal import Console, parse_log_format

__all__ = ["MAX_BATCH_EVENTS", "CloudWatchShipper", "Console", "LogRecord", "LogRouter", "LogSink", "MotoLogs",
           "parse_log_format"]
