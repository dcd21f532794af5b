"""One polling helper for the tests that wait on something running elsewhere (a worker, a stack, an execution)."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, message: str | Callable[[T], str],
               interval: float = 0.1, accept: Callable[[T], object] = bool) -> T:
    """Call ``condition()`` every ``interval`` s until ``accept`` takes its value (by default: until it is truthy),
    and return that value.

    Fails with ``message`` (or ``message(last value)``, to show what was seen) once ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    while not accept(value := condition()):
        assert time.monotonic() < deadline, message(value) if callable(message) else message
        time.sleep(interval)
    return value


def wait_execution(client, execution_arn: str, timeout: float = 60.0, interval: float = 0.05) -> dict:
    """DescribeExecution (``client``: a Step Functions client) until the execution is no longer RUNNING."""
    return wait_until(lambda: client.describe_execution(executionArn=execution_arn), timeout,
                      f"{execution_arn} still RUNNING", interval, accept=lambda d: d["status"] != "RUNNING")
