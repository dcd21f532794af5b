"""Fault injection for chaos runs (``make chaos``). Off unless ``FAULTS`` is set; ``make run`` never sets it.

``FAULTS`` is a comma-separated list of rules ``<kind>:<rate>[:<Function>+<Function>...]``; a rule without functions
applies to every function. ``rate`` is the probability (0 to 1) per invocation (``duplicate``: per delivered batch).
Functions are named by logical id (``ChargePaymentFunction``) or physical name. ``FAULTS_SEED`` seeds the draws.

* ``error``: the invocation's handler runs to its end, then the invocation ends as a function error
  (``errorType`` ``FaultInjectedError``): its work is done, its caller is told it failed (an answer lost on its way
  back, or a handler that raised after its last write);
* ``timeout``: the handler runs to its end, then the invocation hangs until the function's ``Timeout`` has passed
  since it started and ends ``Sandbox.Timedout``; the worker is killed, as Lambda discards a timed-out sandbox;
* ``duplicate``: an SQS event source mapping delivers a batch a second time, right after the first delivery (SQS
  delivers at least once); the first delivery's outcome decides what is deleted.

Example: ``FAULTS="error:0.01:ChargePaymentFunction+ReserveInventoryFunction,timeout:0.005,duplicate:0.05"``.

Hooks: ``LambdaService`` -> ``FunctionPool.run`` (pool.py) calls ``after_invocation``; ``SqsEventSource.poll_once``
calls ``duplicate``. Every injected fault is counted (``counts()``) and written to the runtime log as ``[fault]
...``. Worker kills (SIGKILL of a worker process) need no hook: ``make chaos`` sends them from outside, as an
operator would.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_runtime.awslambda.functions import FunctionSpec
    from local_runtime.awslambda.worker import Invocation, Worker

KINDS = ("error", "timeout", "duplicate")
INJECTED_ERROR = "FaultInjectedError"


class FaultsError(ValueError):
    """FAULTS does not follow the grammar."""


@dataclass(frozen=True)
class Rule:
    kind: str
    rate: float
    functions: tuple[str, ...] = ()  # empty: every function

    def applies_to(self, function_name: str) -> bool:
        return not self.functions or any(function_name == name or function_name.endswith("-" + name)
                                         for name in self.functions)


def parse(text: str | None) -> list[Rule]:
    """The rules of a FAULTS value (empty or None: none)."""
    rules = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3) or parts[0] not in KINDS:
            raise FaultsError(f"FAULTS rule {item!r}: expected <{'|'.join(KINDS)}>:<rate>[:<Function>+...]")
        try:
            rate = float(parts[1])
        except ValueError:
            raise FaultsError(f"FAULTS rule {item!r}: the rate {parts[1]!r} is not a number") from None
        if not 0 <= rate <= 1:
            raise FaultsError(f"FAULTS rule {item!r}: the rate must lie in [0, 1]")
        functions = tuple(name for name in parts[2].split("+") if name) if len(parts) == 3 else ()
        rules.append(Rule(parts[0], rate, functions))
    return rules


class Faults:
    """Draws and applies the configured faults; thread-safe."""

    def __init__(self, rules: list[Rule], seed: int | None = None) -> None:
        self.rules = rules
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    @classmethod
    def from_text(cls, text: str | None, seed: int | None = None) -> "Faults | None":
        rules = parse(text)
        return cls(rules, seed) if rules else None

    def describe(self) -> str:
        return ", ".join(f"{r.kind} {r.rate:g}" + (f" of {'+'.join(r.functions)}" if r.functions else "")
                         for r in self.rules)

    def _draw(self, kind: str, function_name: str) -> bool:
        with self._lock:
            for rule in self.rules:
                if rule.kind == kind and rule.applies_to(function_name) and self._random.random() < rule.rate:
                    key = (kind, function_name)
                    self._counts[key] = self._counts.get(key, 0) + 1
                    return True
        return False

    def counts(self) -> dict[str, dict[str, int]]:
        """Faults injected so far: {kind: {function name: count}}."""
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (kind, function), count in sorted(self._counts.items()):
                out.setdefault(kind, {})[function] = count
            return out

    # -- hooks ------------------------------------------------------------------------------------------------------

    def after_invocation(self, spec: FunctionSpec, worker: Worker, invocation: Invocation) -> None:
        """Called by the function's pool once the invocation has its outcome, before the worker is released."""
        if invocation.function_error is not None:
            return  # it failed on its own
        from local_runtime.awslambda.worker import error_envelope, timeout_envelope

        if self._draw("timeout", spec.name):
            if invocation.deadline is not None:
                time.sleep(max(0.0, invocation.deadline - time.monotonic()))
            invocation.result = timeout_envelope(invocation.request_id, invocation.timeout)
            invocation.function_error = "Unhandled"
            worker.kill()
            _log(f"timeout injected into {spec.name} (request {invocation.request_id}); its worker is killed")
        elif self._draw("error", spec.name):
            invocation.result = error_envelope(INJECTED_ERROR, f"fault injected after the handler of {spec.name} ran")
            invocation.function_error = "Unhandled"
            _log(f"error injected into {spec.name} (request {invocation.request_id})")

    def duplicate(self, function_name: str) -> bool:
        """Called by an SQS event source after delivering a batch: deliver it again?"""
        if self._draw("duplicate", function_name):
            _log(f"duplicate delivery of a batch to {function_name}")
            return True
        return False


def _log(message: str) -> None:
    try:
        sys.stderr.write(f"[fault] {message}\n")
    except (OSError, ValueError):
        pass
