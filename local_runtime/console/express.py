"""A bounded record of finished Express executions, for the console.

AWS's Step Functions API does not list or describe Express executions (ListExecutions and GetExecutionHistory are
Standard-only); its console shows them from CloudWatch Logs when the state machine logs to a log group. Locally the
console keeps the last ``limit`` finished Express executions of each state machine (StartSyncExecution and
StartExecution alike) as the engine ends them: their description and history, in memory, lost at stop.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, deque
from datetime import datetime
from typing import Any

DEFAULT_LIMIT = 200


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class ExpressRecord:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._by_machine: dict[str, deque[str]] = {}
        self._records: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def on_finished(self, execution: Any) -> None:
        """An engine listener (``Engine.listeners``): called once when an execution ends."""
        if getattr(execution, "type", "STANDARD") != "EXPRESS":
            return
        events = execution.history.events()
        for event in events:
            event["timestamp"] = _epoch(event["timestamp"])
        description = {
            "executionArn": execution.arn, "stateMachineArn": execution.state_machine_arn, "name": execution.name,
            "status": execution.status, "startDate": _epoch(execution.start_date),
            "stopDate": _epoch(execution.stop_date), "input": execution.input, "type": "EXPRESS",
        }
        for key in ("output", "error", "cause"):
            if getattr(execution, key) is not None:
                description[key] = getattr(execution, key)
        with self._lock:
            arns = self._by_machine.setdefault(execution.state_machine_arn, deque())
            arns.append(execution.arn)
            self._records[execution.arn] = {"execution": description, "events": events}
            while len(arns) > self.limit:
                self._records.pop(arns.popleft(), None)

    def list(self, state_machine_arn: str) -> list[dict]:
        """The recorded executions of one state machine, the most recent first (without their histories)."""
        with self._lock:
            arns = list(self._by_machine.get(state_machine_arn, ()))
            return [{k: v for k, v in self._records[arn]["execution"].items() if k not in ("input", "output")}
                    for arn in reversed(arns) if arn in self._records]

    def get(self, execution_arn: str) -> dict | None:
        with self._lock:
            return self._records.get(execution_arn)

    def __len__(self) -> int:
        return len(self._records)
