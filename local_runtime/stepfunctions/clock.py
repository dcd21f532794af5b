"""Clocks: every Wait, Retry interval and timeout of the engine goes through one.

* ``RealClock``: wall time, real sleeps.
* ``ScaledClock(scale)``: real sleeps of ``seconds * scale``; ``now()`` stays wall time (virtual time is not
  simulated: a Wait of 10 s at scale 0.01 lasts 0.1 s and the history shows 0.1 s between events). Scaled:
  Wait, Retry intervals, execution TimeoutSeconds, callback (``.waitForTaskToken``) timeouts and heartbeats.
  Not scaled: TimeoutSeconds of a task doing real work (a Lambda invoke, an SDK call), see ``WORK``.
* ``VirtualClock``: time moves only when ``advance()`` is called (or at once with ``auto_advance=True``).

``call_later(seconds, callback, kind)`` runs ``callback`` (on a timer thread, or in ``advance()``) once the time has
passed and returns a handle whose ``cancel()`` forgets it; the engine parks a waiting execution on such a timer
(scheduler.py) instead of holding a thread. ``kind`` says what the time is for:

* ``SLEEP``: a Wait, a Retry interval, a callback or ``.sync`` task's timeout;
* ``WORK``: the TimeoutSeconds of a task call doing real work, counted from the moment the work started;
* ``DEADLINE``: an execution's TimeoutSeconds (a ``VirtualClock`` with ``auto_advance`` does not jump to it: it
  fires when other sleeps move the time past it).

``sleep(seconds, cancel)`` (a blocking wait of the calling thread) returns True when the full time elapsed, False
when ``cancel`` was set first.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

SLEEP, WORK, DEADLINE = "sleep", "work", "deadline"


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool: ...

    def call_later(self, seconds: float, callback: Callable[[], None], kind: str = SLEEP) -> Timer: ...


class _TimerEntry:
    __slots__ = ("when", "seq", "callback", "cancelled", "owner", "kind")

    def __init__(self, when: float, seq: int, callback: Callable[[], None], owner=None, kind: str = SLEEP) -> None:
        self.when, self.seq, self.callback, self.cancelled, self.owner = when, seq, callback, False, owner
        self.kind = kind

    def __lt__(self, other: "_TimerEntry") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        """Forget the callback now (what it holds is freed at once); the entry leaves the heap at its time, or when
        the owner compacts its heap."""
        if not self.cancelled:
            self.cancelled = True
            self.callback = None
            if self.owner is not None:
                self.owner.cancelled()


class _RealTimers:
    """One thread for every real-time timer of the process (started on first use)."""

    def __init__(self) -> None:
        self._heap: list[_TimerEntry] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._cancelled = 0  # about how many entries of the heap are cancelled (compaction hint)

    def cancelled(self) -> None:
        self._cancelled += 1

    def __len__(self) -> int:
        with self._cond:
            return len(self._heap)

    def add(self, seconds: float, callback: Callable[[], None]) -> _TimerEntry:
        entry = _TimerEntry(time.monotonic() + max(seconds, 0.0), next(self._seq), callback, self)
        with self._cond:
            if self._cancelled > 1024 and self._cancelled * 2 > len(self._heap):
                # most timers are cancelled early (a task answered long before its timeout): drop them
                self._heap = [e for e in self._heap if not e.cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sfn-timers", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:
                self._cond.notify()
        return entry

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0].when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                entry = heapq.heappop(self._heap)
            callback = entry.callback
            if not entry.cancelled and callback is not None:
                try:
                    callback()
                except Exception:  # pragma: no cover - callbacks only wake waiters
                    pass


REAL_TIMERS = _RealTimers()


class RealClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is None:
            cancel = threading.Event()
        if seconds <= 0:
            return not cancel.is_set()
        return not cancel.wait(seconds)

    def call_later(self, seconds: float, callback: Callable[[], None], kind: str = SLEEP) -> Timer:
        return REAL_TIMERS.add(seconds, callback)


class ScaledClock(RealClock):
    def __init__(self, scale: float) -> None:
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self.scale = scale

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        return super().sleep(seconds * self.scale, cancel)

    def call_later(self, seconds: float, callback: Callable[[], None], kind: str = SLEEP) -> Timer:
        return REAL_TIMERS.add(seconds if kind == WORK else seconds * self.scale, callback)


class VirtualClock:
    """Deterministic clock for tests.

    With ``auto_advance`` a sleep (and a ``SLEEP`` timer) moves the clock to its deadline at once (no real waiting).
    Without it a sleeper blocks, and a timer waits, until another thread calls ``advance()`` past its deadline (or
    the sleeper's ``cancel`` is set, or the timer is cancelled).
    """

    def __init__(self, start: datetime | None = None, auto_advance: bool = False, work_grace: float = 1.0) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
        if self._now.tzinfo is None:
            self._now = self._now.replace(tzinfo=timezone.utc)
        self.auto_advance = auto_advance
        self.work_grace = work_grace  # auto_advance: real seconds a task call gets before its timeout jumps in
        self._cond = threading.Condition()
        self._sleepers: list[tuple[datetime, int]] = []
        self._timers: list[_TimerEntry] = []  # heap of pending call_later timers (``when`` is a datetime)
        self._seq = itertools.count()

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += timedelta(seconds=seconds)
            self._cond.notify_all()
        self._fire_due()

    def sleepers(self) -> int:
        """How many sleeps and timers are waiting now (lets a test wait until the engine is blocked)."""
        with self._cond:
            return len(self._sleepers) + sum(1 for entry in self._timers if not entry.cancelled)

    def pending(self, kind: str) -> list[datetime]:
        """When each timer of ``kind`` (SLEEP, WORK, DEADLINE) that is still waiting is due, earliest first."""
        with self._cond:
            return sorted(entry.when for entry in self._timers if not entry.cancelled and entry.kind == kind)

    def call_later(self, seconds: float, callback: Callable[[], None], kind: str = SLEEP) -> Timer:
        with self._cond:
            entry = _TimerEntry(self._now + timedelta(seconds=max(seconds, 0)), next(self._seq), callback, kind=kind)
            heapq.heappush(self._timers, entry)
            if self.auto_advance and kind == SLEEP and entry.when > self._now:
                self._now = entry.when
                self._cond.notify_all()
        if self.auto_advance and kind == WORK:
            REAL_TIMERS.add(self.work_grace, lambda: self._jump_to(entry))  # real work first gets work_grace
        self._fire_due()
        return entry

    def _jump_to(self, entry: _TimerEntry) -> None:
        with self._cond:
            if entry.cancelled or entry.when <= self._now:
                return
            self._now = entry.when
            self._cond.notify_all()
        self._fire_due()

    def _fire_due(self) -> None:
        while True:
            with self._cond:
                while self._timers and self._timers[0].cancelled:
                    heapq.heappop(self._timers)
                if not self._timers or self._timers[0].when > self._now:
                    return
                entry = heapq.heappop(self._timers)
            callback = entry.callback
            entry.cancel()
            if callback is not None:
                callback()

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        with self._cond:
            deadline = self._now + timedelta(seconds=max(seconds, 0))
            if self.auto_advance:
                if deadline > self._now:
                    self._now = deadline
                    self._cond.notify_all()
                jumped = True
            else:
                jumped = False
                entry = (deadline, next(self._seq))
                heapq.heappush(self._sleepers, entry)
                try:
                    while self._now < deadline:
                        if cancel is not None and cancel.is_set():
                            return False
                        # short real-time waits so a cancel (an Event, not this condition) is seen promptly
                        self._cond.wait(0.01)
                    return True
                finally:
                    self._sleepers.remove(entry)
                    heapq.heapify(self._sleepers)
        if jumped:
            self._fire_due()
        return True
