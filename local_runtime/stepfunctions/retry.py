"""Retry and Catch: error-name matching, retry schedule (backoff, cap, jitter), catcher selection."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .failures import ALL, TASK_FAILED, TERMINAL, TIMEOUT
from .paths import ReferencePath


def error_matches(error_equals: tuple[str, ...], error: str, terminal: bool | None = None) -> bool:
    """ErrorEquals semantics: exact, case-sensitive names; ``States.ALL`` matches every error except the terminal
    ones; ``States.TaskFailed`` matches every error except ``States.Timeout`` (and the terminal ones).
    ``terminal``: whether this failure is terminal (default: its name is one of the terminal names)."""
    if error in TERMINAL if terminal is None else terminal:
        return error in error_equals
    for name in error_equals:
        if name == error or name == ALL:
            return True
        if name == TASK_FAILED and error != TIMEOUT:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"

    def base_delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt + 1`` (attempt counts from 0) before jitter:
        IntervalSeconds * BackoffRate ** attempt, capped by MaxDelaySeconds."""
        delay = self.interval_seconds * (self.backoff_rate ** attempt)
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        return delay

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1``: the base delay, with Jitter FULL drawn from
        [0, base delay]."""
        delay = self.base_delay(attempt)
        if self.jitter == "FULL":
            delay = (rng or random).uniform(0, delay)
        return delay


@dataclass(frozen=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: ReferencePath | None  # None: discard the error output (ResultPath null)
    assign: Any = None  # the catcher's Assign (JSONPath template or JSONata template), evaluated on the error output
    output: Any = None  # JSONata only: the catcher's Output (default: the error output)


class RetryState:
    """Per state-entry attempt counters, one per retrier (the spec keeps a count per retrier)."""

    __slots__ = ("counts", "total")

    def __init__(self, n: int) -> None:
        self.counts = [0] * n
        self.total = 0

    def next_delay(self, retriers: tuple[Retrier, ...], error: str, terminal: bool | None = None) -> float | None:
        """Delay before the next attempt, or None when the error is not retried (no match / exhausted)."""
        for i, retrier in enumerate(retriers):
            if error_matches(retrier.error_equals, error, terminal):
                if self.counts[i] >= retrier.max_attempts:
                    return None
                delay = retrier.delay(self.counts[i])
                self.counts[i] += 1
                self.total += 1
                return delay
        return None


def find_catcher(catchers: tuple[Catcher, ...], error: str, terminal: bool | None = None) -> Catcher | None:
    for catcher in catchers:
        if error_matches(catcher.error_equals, error, terminal):
            return catcher
    return None


def error_output(error: str, cause: str) -> dict[str, Any]:
    return {"Error": error, "Cause": cause}
