"""CPU of the runtime's threads by pool (local_runtime/threads.py): live ones from /proc, ended ones kept."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from local_runtime import threads


@pytest.mark.parametrize("name, group", [
    ("CP Server Thread-3", "CP Server Thread"),
    ("sfn-task_12", "sfn-task"),
    ("Thread-40 (process_request_thread)", "process_request_thread"),
    ("runtime-api-dofs-ApiFunction", "runtime-api-dofs-ApiFunction"),
    ("sqs-poller-dofs-FulfillmentQueue-1", "sqs-poller-dofs-FulfillmentQueue"),
    ("endpoint", "endpoint"),
])
def test_threads_of_one_pool_share_a_group(name, group):
    assert threads.thread_group(name) == group


def _spin(seconds: float) -> None:
    deadline = time.thread_time() + seconds
    while time.thread_time() < deadline:
        pass


def test_a_live_busy_thread_is_counted_under_its_pool():
    done = threading.Event()

    def work() -> None:
        _spin(0.05)
        done.wait(5)

    thread = threading.Thread(target=work, name="threads-probe-live-7")
    thread.start()
    try:
        while thread.is_alive() and threads.cpu_ms().get("threads-probe-live", 0.0) < 40:
            time.sleep(0.01)
        spent = threads.cpu_ms().get("threads-probe-live", 0.0)
    finally:
        done.set()
        thread.join(5)

    assert spent >= 40  # 50 ms of CPU, read in clock ticks (10 ms)


def test_a_thread_that_counted_itself_keeps_its_cpu_after_it_ended_and_is_not_counted_twice():
    counted, release = threading.Event(), threading.Event()

    def work() -> None:
        _spin(0.03)
        threads.count_ended()
        counted.set()
        release.wait(5)  # still alive, and listed by /proc, after counting itself

    group = f"threads-probe-{uuid.uuid4().hex[:8]}-ended"  # a pool of its own: the totals of ended threads last
    thread = threading.Thread(target=work, name=group)
    thread.start()
    counted.wait(5)
    while_alive = threads.cpu_ms()[group]
    release.set()
    thread.join(5)
    after = threads.cpu_ms()[group]

    assert 30 <= while_alive < 60  # its thread_time at the end, not that plus /proc's reading
    assert after == while_alive


def test_the_engines_scheduler_thread_counts_itself_as_it_ends_idle(ended, monkeypatch):
    from local_runtime.stepfunctions import scheduler

    monkeypatch.setattr(scheduler, "IDLE_SECONDS", 0.01)
    scheduler.Scheduler(name="sfn-scheduler-threads-test").spawn(lambda: None)
    assert "sfn-scheduler-threads-test" in ended.wait("sfn-scheduler-threads-test")
