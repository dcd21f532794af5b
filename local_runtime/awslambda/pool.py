"""Warm workers of one function: reuse an idle one, start another up to the concurrency limit, else queue.

``recycle()`` (hot reload) starts a new generation: idle workers of an older one are stopped at once, busy ones
when their invocation ends, and every later invocation gets a worker started after the call (new code, new
configuration)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from local_runtime.awslambda import exceptions
from local_runtime.awslambda.worker import Invocation, Worker

if TYPE_CHECKING:
    from local_runtime.awslambda.faults import Faults
    from local_runtime.awslambda.functions import FunctionSpec


class FunctionPool:
    """The execution environments of one function. Thread-safe."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_env: Mapping[str, str],
        python: str,
        max_concurrency: int,
        worker_factory: Callable[[FunctionSpec, Mapping[str, str], str], Worker] = Worker,
        faults: Faults | None = None,
    ) -> None:
        self.spec = spec
        self._base_env = base_env
        self._python = python
        self._max = max(1, max_concurrency)
        self._factory = worker_factory
        self._faults = faults  # local_runtime/awslambda/faults.py: chaos runs only
        self._cond = threading.Condition()
        self._idle: list[Worker] = []  # LIFO: the most recently used worker is the warmest
        self._workers: set[Worker] = set()
        self._dying: set[Worker] = set()  # discarded, being reaped
        self._starting = 0
        self._closed = False
        self._generation = 0
        self._born: dict[Worker, int] = {}  # worker -> the generation it was started in

    def run(self, invocation: Invocation) -> None:
        worker = self._acquire()
        if invocation.on_start is not None:  # a worker takes it now: what waited for one is not its caller's time
            invocation.on_start()
        try:
            worker.run(invocation)
            if self._faults is not None:
                self._faults.after_invocation(self.spec, worker, invocation)
        finally:
            self._release(worker)

    def workers(self) -> list[Worker]:
        with self._cond:
            return list(self._workers)

    def recycle(self, spec: FunctionSpec | None = None, max_concurrency: int | None = None) -> int:
        """A new generation (with ``spec``, if given): returns how many warm workers it retires."""
        with self._cond:
            if spec is not None:
                self.spec = spec
            if max_concurrency is not None:
                self._max = max(1, max_concurrency)
            self._generation += 1
            retired = len(self._workers)
            idle, self._idle = self._idle, []
            for worker in idle:
                self._discard(worker)
            self._cond.notify_all()
            return retired

    def close(self) -> list[Worker]:
        """Refuse new invocations; return every worker for the caller to stop."""
        with self._cond:
            self._closed = True
            self._idle.clear()
            self._cond.notify_all()
            return list(self._workers | self._dying)

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                self._check_open()
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive and self._born.get(worker) == self._generation:
                        return worker
                    self._discard(worker)
                if len(self._workers) + self._starting < self._max:
                    self._starting += 1
                    spec, generation = self.spec, self._generation
                    break
                self._cond.wait()
        worker = self._factory(spec, self._base_env, self._python)
        try:
            worker.start()
        finally:
            with self._cond:
                self._starting -= 1
                if worker.pid is not None:
                    self._workers.add(worker)
                    self._born[worker] = generation
                self._cond.notify()
        with self._cond:
            if not self._closed:
                return worker
        worker.kill()
        worker.wait(5.0)
        worker.join()
        raise exceptions.ServiceException("The Lambda service is stopped")

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed and self._born.get(worker) == self._generation:
                self._idle.append(worker)
            else:
                self._discard(worker)
            self._cond.notify()

    def _discard(self, worker: Worker) -> None:
        """Forget a dead worker (called with the lock held); reap it off the lock's critical path."""
        if worker in self._workers:
            self._workers.discard(worker)
            self._born.pop(worker, None)
            self._dying.add(worker)
            worker.kill()
            threading.Thread(target=self._reap, args=(worker,), daemon=True).start()

    def _reap(self, worker: Worker) -> None:
        worker.wait(5.0)
        worker.join()
        with self._cond:
            self._dying.discard(worker)

    def _check_open(self) -> None:
        if self._closed:
            raise exceptions.ServiceException("The Lambda service is stopped")
