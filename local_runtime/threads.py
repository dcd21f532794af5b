"""CPU time of the runtime process's threads by pool: what ``GET /_local/stats`` reports as ``threadCpuMs``.

Live threads are read from /proc (Linux; nothing elsewhere). A thread of a pool that comes and goes (the engine's
scheduler thread, which ends when no execution has run for a second; the Lambda Runtime API's and the API server's
thread per connection) calls :func:`count_ended` as its last act, so its CPU stays in its pool's total after /proc
has forgotten it: the totals only grow.
"""
from __future__ import annotations

import os
import re
import threading
import time
import weakref
from typing import Any

_THREAD_NUMBER = re.compile(r"[-_ ]?\d+$")
_POOL_THREAD = re.compile(r"^Thread-\d+ \((?P<target>\w+)\)$")

_lock = threading.Lock()
_ended: dict[str, float] = {}  # pool -> CPU seconds of its threads that have ended
_counted: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()  # in _ended, perhaps still listed for a moment


def thread_group(name: str) -> str:
    """A thread's name without what tells the members of one pool apart: ``CP Server Thread-3`` -> ``CP Server
    Thread``, ``sfn-task_12`` -> ``sfn-task``, ``Thread-40 (process_request_thread)`` -> ``process_request_thread``;
    ``runtime-api-dofs-ApiFunction`` stays as it is."""
    pool = _POOL_THREAD.match(name)
    return pool.group("target") if pool else _THREAD_NUMBER.sub("", name)


def count_ended() -> None:
    """Called by a thread as the last thing it does: its CPU so far joins its pool's total of ended threads."""
    thread = threading.current_thread()
    spent = time.thread_time()
    with _lock:
        if thread in _counted:
            return
        group = thread_group(thread.name)
        _ended[group] = _ended.get(group, 0.0) + spent
        _counted.add(thread)


class CountedConnectionThreads:
    """Mixed in before a ``socketserver.ThreadingMixIn`` server (a thread per connection): each connection's thread is
    named ``connection_thread`` (its pool in ``threadCpuMs``) and calls :func:`count_ended` as it ends."""

    connection_thread = "connection"

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        threading.current_thread().name = self.connection_thread
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            count_ended()


def cpu_ms() -> dict[str, float]:
    """CPU (user + system) of this process's threads so far by :func:`thread_group`, in ms: live threads from /proc
    (in clock ticks, 10 ms here) plus the threads that have ended through :func:`count_ended`."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    with _lock:
        groups = {group: seconds * 1000 for group, seconds in _ended.items()}
        counted = set(_counted)
    for thread in threading.enumerate():
        native = getattr(thread, "native_id", None)
        if native is None or thread in counted:
            continue
        try:
            with open(f"/proc/self/task/{native}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        group = thread_group(thread.name)
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) * 1000 / tick  # utime, stime
    return {group: round(ms, 3) for group, ms in sorted(groups.items())}
