"""What an execution may use: its ``Environment``, never the Engine.

The engine (engine.py) builds one environment and hands it to every execution it creates (with the mocks of its
test case, when it has one). An execution reads the clock, hands task calls to the task pool, registers task tokens
with the callbacks, calls the integrations (the task components' ports) and, when it ends, calls ``finished`` (the
engine's bookkeeping: running count, forgetting old executions, listeners).

Imports nothing of the engine: what it holds is given to it.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Callable


class TaskPool:
    """Threads for task calls (a Lambda invoke, an SDK call), made on first use, and the count of calls waiting to
    start: queued for a thread or for a free Lambda worker (what the local runtime's API throttles on)."""

    def __init__(self, max_workers: int) -> None:
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.queued = 0

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="sfn-task")
        return self._executor

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.executor.submit(fn, *args)

    def count_queued(self, delta: int) -> None:
        with self._lock:
            self.queued += delta

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Environment:
    clock: Any                             # clock.Clock: now(), call_later()
    integrations: Any                      # integrations.Integrations: what task components call
    callbacks: Any                         # callbacks.Callbacks: task tokens
    pool: TaskPool                         # task calls
    finished: Callable[[Any], None]        # called once with each execution that ends
    mocks: Any = None                      # mocks.MockedCase / SingleMock: mocked Task states answer instead

    def with_mocks(self, mocks: Any) -> "Environment":
        return self if mocks is None else replace(self, mocks=mocks)


__all__ = ["Environment", "TaskPool"]
