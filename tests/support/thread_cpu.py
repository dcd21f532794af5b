"""Recording which threads call local_runtime.threads.count_ended (tests of the pools that count themselves)."""
from __future__ import annotations

import threading

from local_runtime import threads


def record_count_ended(monkeypatch):
    """Wraps threads.count_ended; the returned callable's ``wait(group)`` waits (up to 5 s) until a thread of that
    pool has called it and returns the pools of every caller so far."""
    names: list[str] = []
    called = threading.Condition()
    count_ended = threads.count_ended

    def recorded() -> None:
        count_ended()
        with called:
            names.append(threading.current_thread().name)
            called.notify_all()

    def wait(group: str) -> list[str]:
        with called:
            called.wait_for(lambda: any(threads.thread_group(name) == group for name in names), timeout=5)
        return [threads.thread_group(name) for name in names]

    monkeypatch.setattr(threads, "count_ended", recorded)
    recorded.wait = wait
    return recorded
