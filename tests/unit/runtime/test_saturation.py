"""When the local runtime counts as saturated (the API then answers 429): task calls waiting to start at the bound."""
from __future__ import annotations

from local_runtime.config import Settings
from local_runtime.runtime import LocalRuntime


class FakeEngine:
    def __init__(self, queued: int) -> None:
        self.queued = queued
        self.executions = {f"arn-{i}": None for i in range(queued + 5)}

    def queued_calls(self) -> int:
        return self.queued

    def running_count(self) -> int:
        return self.queued + 2


def runtime_with(bound: int, queued: int) -> LocalRuntime:
    runtime = LocalRuntime(Settings(max_queued_tasks=bound))
    runtime.engine = FakeEngine(queued)
    return runtime


def test_saturated_at_the_bound_of_queued_task_calls():
    assert runtime_with(3, 2).saturation() is None
    assert runtime_with(3, 3).saturation() == "3 task calls waiting for a worker (MAX_QUEUED_TASKS=3)"
    assert runtime_with(3, 7).saturation() == "7 task calls waiting for a worker (MAX_QUEUED_TASKS=3)"


def test_no_bound_never_saturates():
    assert runtime_with(0, 100_000).saturation() is None


def test_load_reports_the_counts():
    assert runtime_with(3, 2).load() == {"queuedTaskCalls": 2, "maxQueuedTasks": 3, "runningExecutions": 4,
                                         "keptExecutions": 7, "maxFinishedExecutions": 1000, "throttledRequests": 0}
