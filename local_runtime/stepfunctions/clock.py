"""Clocks: every Wait, Retry interval and timeout of the engine goes through one.

* ``RealClock``: wall time, real sleeps.
* ``ScaledClock(scale)``: real sleeps of ``seconds * scale``; ``now()`` stays wall time (virtual time is not
  simulated: a Wait of 10 s at scale 0.01 lasts 0.1 s and the history shows 0.1 s between events). Scaled:
  Wait, Retry intervals, execution TimeoutSeconds, callback (``.waitForTaskToken``) timeouts and heartbeats.
  Not scaled: TimeoutSeconds of a task doing real work (a Lambda invoke, an SDK call), see ``wait_for_work``.
* ``VirtualClock``: time moves only when ``advance()`` is called (or at once with ``auto_advance=True``).

``sleep(seconds, cancel)`` returns True when the full time elapsed, False when ``cancel`` was set first.
"""
from __future__ import annotations

import heapq
import itertools
import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is None:
            cancel = threading.Event()
        if seconds <= 0:
            return not cancel.is_set()
        return not cancel.wait(seconds)

    def wait_for_work(self, seconds: float, done: threading.Event) -> bool:
        """Wait for real work (a task call) to set ``done``, at most ``seconds``; True when the time ran out."""
        return self.sleep(seconds, done)


class ScaledClock(RealClock):
    def __init__(self, scale: float) -> None:
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self.scale = scale

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        return super().sleep(seconds * self.scale, cancel)

    def wait_for_work(self, seconds: float, done: threading.Event) -> bool:
        """A task call is real work (a Lambda cold start does not get faster): its TimeoutSeconds stays real."""
        return RealClock.sleep(self, seconds, done)


class VirtualClock:
    """Deterministic clock for tests.

    With ``auto_advance`` a sleep moves the clock to its deadline at once (no real waiting). Without it a
    sleeper blocks until another thread calls ``advance()`` past its deadline, or its ``cancel`` is set.
    """

    def __init__(self, start: datetime | None = None, auto_advance: bool = False, work_grace: float = 1.0) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
        if self._now.tzinfo is None:
            self._now = self._now.replace(tzinfo=timezone.utc)
        self.auto_advance = auto_advance
        self.work_grace = work_grace  # auto_advance: real seconds a task call gets before its timeout jumps in
        self._cond = threading.Condition()
        self._sleepers: list[tuple[datetime, int]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += timedelta(seconds=seconds)
            self._cond.notify_all()

    def sleepers(self) -> int:
        """How many threads are sleeping now (lets a test wait until the engine is blocked)."""
        with self._cond:
            return len(self._sleepers)

    def wait_for_work(self, seconds: float, done: threading.Event) -> bool:
        """Like sleep, but with ``auto_advance`` real work first gets ``work_grace`` real seconds to finish
        (a task call is not virtual: jumping at once would time out every task that has TimeoutSeconds)."""
        if self.auto_advance and done.wait(self.work_grace):
            return False
        return self.sleep(seconds, done)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        with self._cond:
            deadline = self._now + timedelta(seconds=max(seconds, 0))
            if self.auto_advance:
                if deadline > self._now:
                    self._now = deadline
                    self._cond.notify_all()
                return True
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
