"""Executions as greenlets: a waiting execution holds no OS thread.

An execution's code stays plain sequential Python (states.py, execution.py). Where it would block (a Wait or a
Retry interval, a task call, a task token, a child execution, the branches of a Parallel or the iterations of a
Map) it calls :func:`wait`: inside a :class:`Task` (a greenlet run by a :class:`Scheduler`) the greenlet parks and
its thread goes on running other executions; it is resumed when a :class:`Flag` it waits on is set (from any thread)
or when its clock timer fires. Called from a plain thread (TestState, a test), :func:`wait` blocks that thread.

* ``Scheduler``: runs tasks on one OS thread. ``spawn`` starts the thread on demand (it ends after an idle second
  with no task alive); ``run`` runs a task to its end in the calling thread (``Engine.run_sync``).
* ``Flag``: a ``threading.Event`` that also wakes the tasks waiting on it.
* ``wait(clock, seconds, flags, kind)``: until a flag is set (False) or ``seconds`` of clock time passed (True).
* ``spawn(fn)``: a child task on the caller's scheduler (a thread when the caller is a plain thread);
  ``join(children)`` waits for them.

Blocking work (a Lambda invoke, an SDK call) never runs on a scheduler thread: the engine hands it to its task pool
(execution.py ``Branch.call``). Rules for code that runs in a task: never block on a lock or an Event for long,
and never hold a lock across :func:`wait` (another task of the same thread would deadlock on it).
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable, Iterable

from greenlet import getcurrent, greenlet

from local_runtime import threads

log = logging.getLogger("local_runtime.stepfunctions")
IDLE_SECONDS = 1.0  # a scheduler thread with no live task ends after this long (the next spawn starts another)


class Flag(threading.Event):
    """An Event whose ``set()`` also calls its subscribers (once each, outside any lock)."""

    def __init__(self) -> None:
        super().__init__()
        self._subscribers: list[Callable[[], None]] = []
        self._flag_lock = threading.Lock()

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the flag is set (now, when it already is)."""
        with self._flag_lock:
            if not self.is_set():
                self._subscribers.append(callback)
                return
        callback()

    def unsubscribe(self, callback: Callable[[], None]) -> None:
        with self._flag_lock:
            try:
                self._subscribers.remove(callback)
            except ValueError:
                pass

    def set(self) -> None:
        with self._flag_lock:
            super().set()
            subscribers, self._subscribers = self._subscribers, []
        for callback in subscribers:
            callback()


class Task(greenlet):
    """One greenlet of a scheduler: an execution, or a Parallel branch / Map iteration worker inside one."""

    def __init__(self, fn: Callable[[], Any], scheduler: "Scheduler", name: str = "") -> None:
        super().__init__(self._main, parent=scheduler.hub)
        self.fn = fn
        self.scheduler = scheduler
        self.name = name
        self.waiting_on: _Wakeup | None = None

    def _main(self) -> None:
        try:
            self.fn()
        except BaseException:  # the scheduler must go on with the other tasks (fn, an execution's run or a _Child,
            pass               # handles its own errors: join() reads a _Child's)
        finally:
            self.scheduler._task_ended()

    def park(self) -> None:
        """Give the thread back to the scheduler until something resumes this task."""
        self.scheduler.hub.switch()


class Scheduler:
    """Runs tasks cooperatively on one thread: its own (``spawn``) or the caller's (``run``)."""

    def __init__(self, name: str = "sfn-scheduler") -> None:
        self.name = name
        self.hub: greenlet | None = None
        self._ready: deque[Callable[[], None]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._live = 0  # tasks spawned and not ended
        self._thread: threading.Thread | None = None
        self._owned = False  # True while a run() of the calling thread drives this scheduler

    # -- from any thread ----------------------------------------------------------------------------------------

    def spawn(self, fn: Callable[[], Any], name: str = "") -> None:
        """Run ``fn`` as a new task on this scheduler's thread (started when none runs)."""
        with self._cond:
            self._live += 1
            self._ready.append(lambda: self._start(fn, name))
            if self._thread is None and not self._owned:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the scheduler's thread, between tasks."""
        with self._cond:
            self._ready.append(callback)
            self._cond.notify()

    # -- the loop -----------------------------------------------------------------------------------------------

    def run(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` as a task in the calling thread until it (and every task it spawned) has ended."""
        with self._cond:
            if self._thread is not None or self._owned:
                raise RuntimeError("this scheduler already runs")
            self._owned = True
            self._live += 1
            self._ready.append(lambda: self._start(fn, ""))
        self.hub = getcurrent()
        try:
            while True:
                with self._cond:
                    while not self._ready and self._live:
                        self._cond.wait()
                    if not self._ready and not self._live:
                        return
                    batch, self._ready = self._ready, deque()
                _run_all(batch)
        finally:
            self.hub = None
            with self._cond:
                self._owned = False

    def _serve(self) -> None:
        self.hub = getcurrent()
        while True:
            with self._cond:
                while not self._ready:
                    if not self._cond.wait(IDLE_SECONDS) and not self._ready and not self._live:
                        self._thread = None  # a spawn after this starts a new thread
                        threads.count_ended()  # its CPU stays in /_local/stats once the thread is gone
                        return
                batch, self._ready = self._ready, deque()
            _run_all(batch)

    def _start(self, fn: Callable[[], Any], name: str) -> None:
        Task(fn, self, name).switch()

    def _task_ended(self) -> None:
        with self._cond:
            self._live -= 1
            self._cond.notify()


def _run_all(batch: deque[Callable[[], None]]) -> None:
    for callback in batch:
        try:
            callback()
        except Exception:  # pragma: no cover - an engine bug: the other executions go on
            log.exception("scheduler callback failed")


def current_task() -> Task | None:
    """The task running now, or None in a plain thread."""
    current = getcurrent()
    return current if isinstance(current, Task) else None


class _Wakeup:
    """One wait of one task or thread: the first of (a flag set, the timer) wins."""

    __slots__ = ("task", "reason", "_lock", "_event")

    def __init__(self) -> None:
        self.task = current_task()
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._event = threading.Event() if self.task is None else None

    def fire(self, reason: str) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
        if self.task is None:
            self._event.set()
        else:
            task = self.task
            task.scheduler.call_soon(lambda: task.waiting_on is self and task.switch())

    def flag(self) -> None:
        self.fire("flag")

    def timeout(self) -> None:
        self.fire("timeout")

    def wait(self) -> str:
        if self.task is None:
            self._event.wait()
        else:
            while self.reason is None:
                self.task.waiting_on = self
                try:
                    self.task.park()
                finally:
                    self.task.waiting_on = None
        return self.reason


def wait(clock: Any, seconds: float | None, flags: Iterable[Flag], kind: str = "sleep") -> bool:
    """Wait until one of ``flags`` is set (False) or ``seconds`` of ``clock`` time have passed (True; ``None``:
    no limit). ``kind`` tells the clock what the time is for (clock.py: sleep, work, deadline)."""
    flags = list(flags)
    if any(flag.is_set() for flag in flags):
        return False
    wakeup = _Wakeup()
    for flag in flags:
        flag.subscribe(wakeup.flag)
    timer = clock.call_later(seconds, wakeup.timeout, kind) if seconds is not None else None
    try:
        return wakeup.wait() == "timeout"
    finally:
        if timer is not None:
            timer.cancel()
        for flag in flags:
            flag.unsubscribe(wakeup.flag)


class _Child:
    """``fn`` run beside its caller: a task on the caller's scheduler, or its own thread when the caller is a plain
    thread; ``done`` is set when it has ended, ``error`` is what it raised and did not handle."""

    def __init__(self, fn: Callable[[], Any], name: str) -> None:
        self.done = Flag()
        self.error: BaseException | None = None
        self._fn = fn
        task = current_task()
        if task is not None:
            task.scheduler.spawn(self._main, name)
        else:
            threading.Thread(target=self._main, name=name or "sfn-child", daemon=True).start()

    def _main(self) -> None:
        try:
            self._fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()


def spawn(fn: Callable[[], Any], name: str = "") -> _Child:
    """Run ``fn`` beside the caller: a task on the caller's scheduler, or a thread when the caller is a thread."""
    return _Child(fn, name)


def join(children: Iterable[_Child], clock: Any) -> None:
    """Wait until every child has ended; re-raise the first error a child did not handle."""
    children = list(children)
    for child in children:
        while not child.done.is_set():
            wait(clock, None, [child.done])
    for child in children:
        if child.error is not None:
            raise child.error
