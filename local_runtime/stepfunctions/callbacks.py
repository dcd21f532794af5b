"""Task tokens of ``.waitForTaskToken`` tasks: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.

A token belongs to a running branch (execution.py ``Branch``): what is used of it is its ``execution`` (whose
``status`` says whether the token is still awaited), its ``cancel`` scope and its ``clock``.
"""
from __future__ import annotations

import threading
import uuid
from typing import Any

from .. import errors
from . import failures
from .failures import ExecutionCancelled, StatesError
from .scheduler import Flag, wait


class _Waiter:
    __slots__ = ("execution", "event", "outcome", "heartbeat")

    def __init__(self, execution: Any, event: Flag) -> None:
        self.execution = execution
        self.event = event  # a child of the branch's cancel scope: set when answered or cancelled
        self.outcome: tuple[str, Any, str] | None = None  # ("success", output, "") | ("failure", error, cause)
        self.heartbeat = Flag()  # set on each SendTaskHeartbeat


class Callbacks:
    def __init__(self) -> None:
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()

    def new_token(self, branch: Any) -> str:
        token = uuid.uuid4().hex + uuid.uuid4().hex
        with self._lock:
            self._waiters[token] = _Waiter(branch.execution, branch.cancel.child())
        return token

    def discard(self, token: str, branch: Any) -> None:
        with self._lock:
            waiter = self._waiters.pop(token, None)
        if waiter is not None:
            branch.cancel.release(waiter.event)

    def _get(self, token: str) -> _Waiter:
        if not isinstance(token, str) or not token:
            raise errors.InvalidToken("Invalid token")
        with self._lock:
            waiter = self._waiters.get(token)
        if waiter is None:
            raise errors.TaskDoesNotExist("Task does not exist anymore")
        if waiter.execution.status != "RUNNING":
            raise errors.TaskTimedOut("Task Timed Out")
        return waiter

    def succeed(self, token: str, output: Any) -> None:
        waiter = self._get(token)
        waiter.outcome = ("success", output, "")
        waiter.event.set()

    def fail(self, token: str, error: str, cause: str) -> None:
        waiter = self._get(token)
        waiter.outcome = ("failure", error, cause)
        waiter.event.set()

    def heartbeat(self, token: str) -> None:
        self._get(token).heartbeat.set()

    def wait(self, token: str, branch: Any, timeout: float | None, heartbeat: float | None) -> Any:
        """Wait (parked) until the token is answered; States.Timeout / States.HeartbeatTimeout per the task's
        limits."""
        with self._lock:
            waiter = self._waiters[token]
        clock = branch.clock
        done = waiter.event
        # Time is counted in clock seconds actually slept (not wall-clock deltas), so a ScaledClock scales
        # TimeoutSeconds / HeartbeatSeconds of a callback task the same way it scales a Wait.
        elapsed = 0.0
        while True:
            if done.is_set():
                break
            remaining = None if timeout is None else timeout - elapsed
            if remaining is not None and remaining <= 0:
                raise StatesError(failures.TIMEOUT, "")
            if heartbeat is None and remaining is None:
                wait(clock, None, [done])
                continue
            span = heartbeat if remaining is None else (remaining if heartbeat is None else min(heartbeat,
                                                                                               remaining))
            waiter.heartbeat.clear()
            finished = wait(clock, span, [done])
            if not finished:
                continue  # answered or cancelled
            elapsed += span
            if heartbeat is not None and not waiter.heartbeat.is_set() and (
                    remaining is None or span < remaining):
                raise StatesError(failures.HEARTBEAT_TIMEOUT, "")
        if branch.cancel.is_set() or waiter.outcome is None:
            raise ExecutionCancelled()
        kind, first, second = waiter.outcome
        if kind == "success":
            return first
        raise StatesError(first, second)
