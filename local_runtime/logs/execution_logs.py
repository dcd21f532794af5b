"""Step Functions execution logs: each state machine's history events to the CloudWatch Logs group its
``LoggingConfiguration`` names, filtered by its level, as Step Functions writes them.

The rules (AWS developer guide, "Log levels"): ``ALL`` logs every event, ``ERROR`` the failure events of
``ERROR_EVENTS``, ``FATAL`` only the execution's own end when it fails, is aborted or times out, ``OFF`` nothing.
``IncludeExecutionData: false`` leaves out every input, output and parameters (and their ``*Details``). Each event
is one JSON log event::

    {"id": "3", "type": "ExecutionFailed", "details": {"cause": "...", "error": "..."}, "previous_event_id": "2",
     "event_timestamp": "1733400000123", "execution_arn": "arn:aws:states:...", "redrive_count": "0"}

(ids, timestamps and counts as strings, ``details`` always present: the shape of AWS-recorded execution logs).
``event_timestamp`` is the history event's time (the engine's clock, scaled by ``TIME_SCALE``); the CloudWatch log
event's own timestamp is the wall-clock time it was shipped.

Shipping costs the execution nothing: the engine only tells :class:`ExecutionLogShipper` that an execution was
created or has ended (a queue append each); one background thread, about once a second, renders the events of the executions that ended and
of those still running (a long wait for an approval still shows its events), only the types the level logs, and
hands them to cloudwatch.CloudWatchShipper. Local
difference: events reach the group within about a second instead of as they happen; each execution has its own
log stream, ``states/<state machine name>/<YYYY-MM-DD-HH-MM>/<execution name>`` (AWS does not document its stream
names).
"""
from __future__ import annotations

import collections
import json
import threading
import time
from datetime import UTC
from typing import Any

from local_runtime.logs.cloudwatch import CloudWatchShipper, Periodic

# "Log levels" table of the Step Functions developer guide: the events ERROR logs
ERROR_EVENTS = frozenset({
    "ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut", "FailStateEntered", "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed", "LambdaFunctionTimedOut", "MapIterationAborted",
    "MapIterationFailed", "MapStateAborted", "MapStateFailed", "ParallelStateAborted", "ParallelStateFailed",
    "TaskFailed", "TaskStartFailed", "TaskStateAborted", "TaskSubmitFailed", "TaskTimedOut", "WaitStateAborted",
})
FATAL_EVENTS = frozenset({"ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut"})
_DATA_KEYS = frozenset({"input", "inputDetails", "output", "outputDetails", "parameters"})


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


_ALL = _Everything()


def logging_settings(configuration: dict | None) -> tuple[str, bool, str | None]:
    """(level, includeExecutionData, log group name) of a LoggingConfiguration, in the API's casing or
    CloudFormation's."""
    configuration = configuration or {}
    level = str(configuration.get("level") or configuration.get("Level") or "OFF").upper()
    include = configuration.get("includeExecutionData", configuration.get("IncludeExecutionData", False))
    include = include is True or str(include).lower() == "true"
    group = None
    for destination in configuration.get("destinations") or configuration.get("Destinations") or []:
        target = destination.get("cloudWatchLogsLogGroup") or destination.get("CloudWatchLogsLogGroup") or {}
        arn = target.get("logGroupArn") or target.get("LogGroupArn")
        if isinstance(arn, str) and ":log-group:" in arn:
            group = arn.split(":log-group:", 1)[1]
            if group.endswith(":*"):
                group = group[:-2]
            break
    return level, include, group


def logged_types(level: str):
    """The event types a level logs (a container), or None for OFF."""
    if level == "ALL":
        return _ALL
    if level == "ERROR":
        return ERROR_EVENTS
    if level == "FATAL":
        return FATAL_EVENTS
    return None


def log_event(execution_arn: str, event: dict, include_data: bool, redrive_count: int = 0) -> dict:
    """One history event (GetExecutionHistory's shape, from History.events) as Step Functions logs it."""
    details: dict[str, Any] = {}
    for key, value in event.items():
        if key.endswith("EventDetails"):
            details = dict(value)
            break
    if not include_data:
        details = {key: value for key, value in details.items() if key not in _DATA_KEYS}
    timestamp = event["timestamp"]
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return {
        "id": str(event["id"]),
        "type": event["type"],
        "details": details,
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": str(int(timestamp.timestamp() * 1000)),
        "execution_arn": execution_arn,
        "redrive_count": str(redrive_count),
    }


class ExecutionLogShipper(Periodic):
    """Sends the history events of executions whose state machine logs to CloudWatch Logs (see module docstring).

    ``service``: the StepFunctionsService (its state machines' logging configuration and executions);
    ``shipper``: where log events go.
    """

    thread_name = "execution-logs"

    def __init__(self, service: Any, shipper: CloudWatchShipper, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.service = service
        self.engine = service.engine
        self.shipper = shipper
        self._created: collections.deque = collections.deque()
        self._ended: collections.deque = collections.deque()
        self._cursors: dict[str, int] = {}  # execution ARN -> history events already looked at
        self._running: set[str] = set()  # executions of logging state machines, still running
        self._lock = threading.Lock()

    def start(self) -> "ExecutionLogShipper":
        self.engine.created.append(self._on_create)
        self.engine.listeners.append(self._on_end)
        super().start()
        return self

    def run_pass(self) -> int:
        """Ship what is left (at stop: executions aborted by the shutdown included)."""
        return self.ship()

    def _on_create(self, execution: Any) -> None:
        """Engine listener (whoever creates the execution): a queue append; the next pass picks it up."""
        self._created.append(execution)

    def _on_end(self, execution: Any) -> None:
        """Engine listener (the execution's own thread): a queue append, nothing more (the next pass, within a
        second, ships it: waking the thread at every end would scan the running executions hundreds of times a
        second under load)."""
        self._ended.append(execution)

    def ship(self) -> int:
        """Render and hand over every event not shipped yet; returns how many log events."""
        with self._lock:
            sent = 0
            while self._created:  # executions created since the last pass: those of a logging state machine
                execution = self._created.popleft()  # are shipped as they run (a long wait still shows its events)
                machine = self.service.machines.get(execution.state_machine_arn)
                # one that has ended is (or will be) in _ended and is shipped from there, once
                if machine is not None and execution.status == "RUNNING":
                    level, _, group = logging_settings(machine.logging)
                    if logged_types(level) is not None and group:
                        self._running.add(execution.arn)
            ended = []
            while self._ended:
                ended.append(self._ended.popleft())
            for execution in ended:
                self._running.discard(execution.arn)
                sent += self._ship_execution(execution)
                self._cursors.pop(execution.arn, None)
            for arn in list(self._running):
                execution = self.engine.get(arn)
                if execution is None:
                    self._running.discard(arn)
                    continue
                sent += self._ship_execution(execution)
            return sent

    def _ship_execution(self, execution: Any) -> int:
        machine = self.service.machines.get(execution.state_machine_arn)
        if machine is None:
            return 0
        level, include_data, group = logging_settings(machine.logging)
        types = logged_types(level)
        if types is None or not group:
            return 0
        start = self._cursors.get(execution.arn, 0)
        total = len(execution.history)
        if total <= start:
            return 0
        events = execution.history.events(include_data=include_data, start=start,
                                          types=None if types is _ALL else types)
        events = [event for event in events if event["id"] <= total]  # ids are 1..n: more may have come since
        self._cursors[execution.arn] = total
        if not events:
            return 0
        started = execution.start_date
        stream = f"states/{machine.name}/{started:%Y-%m-%d-%H-%M}/{execution.name}"
        redrives = getattr(execution, "redrive_count", 0) or 0
        now = int(time.time() * 1000)  # the log event's own time: TIME_SCALE runs the engine's clock ahead, and
        for event in events:           # CloudWatch refuses events more than 2 hours ahead (or 14 days behind)
            record = log_event(execution.arn, event, include_data, redrives)
            self.shipper.add(group, stream, now,
                             json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str))
        return len(events)
