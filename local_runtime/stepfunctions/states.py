"""The state types of JSONPath mode, parsed once (immutable, shared by executions) and run against a branch.

``run(branch, data)`` returns ``(output, next_state_name_or_None)`` or raises ``StatesError``. Task, Parallel and
Map share the Retry/Catch loop of ``_Recoverable.run``. The branch (execution.py ``Branch``) is what the states
call back into: its context object, its variables, ``sleep``, ``run_task``, ``run_parallel`` and ``run_map``; a
Task's work is its component's (integrations/), chosen by the parser. This module imports neither.
"""
from __future__ import annotations

from typing import Any, Callable

from . import failures
from .distributed_map import Distributed
from .failures import StatesError
from .intrinsics import IntrinsicSyntaxError, parse_intrinsic
from .paths import Path, PathNotFound, PathSyntaxError, ReferencePath, compile_path, compile_reference_path, select
from .payloads import dumps
from .retry import Catcher, Retrier, RetryState, error_output, find_catcher
from .templates import Template
from .timefmt import parse_timestamp
from .variables import jsonpath_assign

IDENTITY = compile_path("$")


class Program:
    """A parsed state machine (or a Parallel branch / Map item processor): immutable."""

    __slots__ = ("start_at", "states", "timeout_seconds", "comment", "query_language")

    def __init__(self, start_at: str, states: dict, timeout_seconds: float | None, comment: str | None,
                 query_language: str = "JSONPath") -> None:
        self.start_at = start_at
        self.states = states
        self.timeout_seconds = timeout_seconds
        self.comment = comment
        self.query_language = query_language


class State:
    type = "State"
    __slots__ = ("name", "next", "end", "input_path", "output_path", "assign")

    def __init__(self, name: str, spec: dict) -> None:
        self.name = name
        self.next = spec.get("Next")
        self.end = bool(spec.get("End", False))
        self.input_path = _opt_path(spec, "InputPath")
        self.output_path = _opt_path(spec, "OutputPath")
        self.assign = jsonpath_assign(spec)  # variables.py; the branch commits what a state assigns

    def run(self, branch: Any, data: Any) -> tuple[Any, str | None]:
        raise NotImplementedError

    def effective_input(self, branch: Any, data: Any) -> Any:
        path = self.input_path
        if path is IDENTITY:
            return data
        return select(path, data, "InputPath", branch.context)

    def finish(self, branch: Any, output: Any) -> Any:
        path = self.output_path
        if path is IDENTITY:
            return output
        return select(path, output, "OutputPath", branch.context)


def _opt_path(spec: dict, field: str) -> Path | None:
    if field not in spec:
        return IDENTITY
    value = spec[field]
    return None if value is None else compile_path(value)


def _result_path(spec: dict) -> ReferencePath | None:
    if "ResultPath" not in spec:
        return compile_reference_path("$")
    value = spec["ResultPath"]
    return None if value is None else compile_reference_path(value)


def apply_result(result_path: ReferencePath | None, raw: Any, result: Any) -> Any:
    """``raw`` with ``result`` placed at ``result_path`` (ResultPath; None: the result is discarded)."""
    if result_path is None:
        return raw
    if not result_path.keys:
        return result
    return result_path.apply(raw, result)


class Pass(State):
    type = "Pass"
    __slots__ = ("parameters", "result", "has_result", "result_path")

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, spec)
        self.parameters = Template(spec["Parameters"]) if "Parameters" in spec else None
        self.has_result = "Result" in spec
        self.result = spec.get("Result")
        self.result_path = _result_path(spec)

    def run(self, branch, data):
        effective = self.effective_input(branch, data)
        if self.parameters is not None:
            effective = self.parameters.resolve(effective, branch.context)
        result = self.result if self.has_result else effective
        if self.assign is not None:
            branch.assigned = self.assign.resolve(result, branch.context)
        return self.finish(branch, apply_result(self.result_path, data, result)), self.next


class Succeed(State):
    type = "Succeed"
    __slots__ = ()

    def run(self, branch, data):
        return self.finish(branch, self.effective_input(branch, data)), None


def _path_or_intrinsic(text: str):
    """ErrorPath / CausePath: a path, or an intrinsic function call such as ``States.Format(...)``."""
    if isinstance(text, str) and text.startswith("States."):
        try:
            return parse_intrinsic(text)
        except IntrinsicSyntaxError as exc:
            raise PathSyntaxError(str(exc)) from None
    return compile_path(text)


class Fail(State):
    type = "Fail"
    __slots__ = ("error", "cause", "error_path", "cause_path")

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, spec)
        self.error = spec.get("Error")
        self.cause = spec.get("Cause")
        self.error_path = _path_or_intrinsic(spec["ErrorPath"]) if "ErrorPath" in spec else None
        self.cause_path = _path_or_intrinsic(spec["CausePath"]) if "CausePath" in spec else None

    def _value(self, path, constant: str | None, field: str, branch, data) -> str | None:
        if path is None:
            return constant
        if hasattr(path, "evaluate"):  # an intrinsic function call (AWS: ErrorPath/CausePath may return a string)
            value = path.evaluate(data, branch.context)
        else:  # a path, a context path ($$.State.Name) or a variable ($name)
            value = select(path, data, field, branch.context)
        if not isinstance(value, str):
            raise StatesError(failures.RUNTIME,
                              f"The value at the JSONPath '{path.text}' for the field '{field}' must be a string")
        return value

    def run(self, branch, data):
        error = self._value(self.error_path, self.error, "ErrorPath", branch, data)
        cause = self._value(self.cause_path, self.cause, "CausePath", branch, data)
        raise StatesError(error or "", cause or "")


class Choice(State):
    type = "Choice"
    __slots__ = ("choices", "default", "rule_assigns")

    def __init__(self, name: str, spec: dict, choices: list[tuple[Callable, str]]) -> None:
        super().__init__(name, spec)
        self.choices = tuple(choices)
        # a matching rule's Assign (None when it has none); the state's Assign goes with the Default
        self.rule_assigns = tuple(jsonpath_assign(rule) for rule in spec.get("Choices", ())[:len(self.choices)])
        self.default = spec.get("Default")

    def run(self, branch, data):
        effective = self.effective_input(branch, data)
        for i, (predicate, target) in enumerate(self.choices):
            if predicate(effective, branch.context):
                if self.rule_assigns[i] is not None:
                    branch.assigned = self.rule_assigns[i].resolve(effective, branch.context)
                return self.finish(branch, effective), target
        if self.default is not None:
            if self.assign is not None:
                branch.assigned = self.assign.resolve(effective, branch.context)
            return self.finish(branch, effective), self.default
        raise StatesError(failures.NO_CHOICE_MATCHED, "No Matches!")


def _shown(value: Any) -> str:
    """A value in a Wait error message: strings bare, other values as JSON (``$.s == 0``, ``$.s == -1``)."""
    return value if isinstance(value, str) else dumps(value)


class Wait(State):
    type = "Wait"
    __slots__ = ("seconds", "timestamp", "seconds_path", "timestamp_path")

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, spec)
        self.seconds = spec.get("Seconds")
        self.timestamp = parse_timestamp(spec["Timestamp"]) if "Timestamp" in spec else None
        self.seconds_path = compile_path(spec["SecondsPath"]) if "SecondsPath" in spec else None
        self.timestamp_path = compile_path(spec["TimestampPath"]) if "TimestampPath" in spec else None

    def run(self, branch, data):
        effective = self.effective_input(branch, data)
        if self.seconds is not None:
            seconds = float(self.seconds)
        elif self.seconds_path is not None:
            path = self.seconds_path
            try:
                value = path.find(branch.context() if path.context else effective)
            except PathNotFound:
                raise StatesError(failures.RUNTIME, f"The SecondsPath parameter does not reference an input value: "
                                                    f"{path.text}") from None
            if type(value) not in (int, float) or (isinstance(value, float) and not value.is_integer()):
                raise StatesError(failures.RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: "
                                                    f"{path.text} == {_shown(value)}")
            if value < 0:
                raise StatesError(failures.RUNTIME, f"The SecondsPath parameter references a negative value: "
                                                    f"{path.text} == {_shown(value)}")
            seconds = float(value)
        else:
            if self.timestamp is not None:
                when = self.timestamp
            else:
                value = select(self.timestamp_path, effective, "TimestampPath", branch.context)
                when = parse_timestamp(value)
                if when is None:
                    raise StatesError(failures.RUNTIME,
                                      f"The TimestampPath parameter does not reference a valid ISO-8601 extended "
                                      f"offset date-time format string: {self.timestamp_path.text} == "
                                      f"{_shown(value)}")
            seconds = (when - branch.clock.now()).total_seconds()
        if seconds > 0:
            branch.sleep(seconds)
        if self.assign is not None:
            branch.assigned = self.assign.resolve(effective, branch.context)
        return self.finish(branch, effective), self.next


class _Recoverable(State):
    """Task, Parallel and Map: Parameters, ResultSelector, ResultPath, Retry, Catch."""

    __slots__ = ("parameters", "result_selector", "result_path", "retriers", "catchers")

    def __init__(self, name: str, spec: dict, parameters_field: str = "Parameters") -> None:
        super().__init__(name, spec)
        self.parameters = Template(spec[parameters_field]) if parameters_field in spec else None
        self.result_selector = Template(spec["ResultSelector"]) if "ResultSelector" in spec else None
        self.result_path = _result_path(spec)
        self.retriers = tuple(
            Retrier(
                error_equals=tuple(r["ErrorEquals"]),
                interval_seconds=r.get("IntervalSeconds", 1),
                max_attempts=r.get("MaxAttempts", 3),
                backoff_rate=r.get("BackoffRate", 2.0),
                max_delay_seconds=r.get("MaxDelaySeconds"),
                jitter=r.get("JitterStrategy", "NONE"),
            )
            for r in spec.get("Retry", ())
        )
        self.catchers = tuple(
            Catcher(
                error_equals=tuple(c["ErrorEquals"]),
                next=c["Next"],
                result_path=_result_path(c),
                assign=jsonpath_assign(c),
            )
            for c in spec.get("Catch", ())
        )

    def attempt(self, branch, effective: Any) -> Any:
        """One try of the state's work, given its effective input; returns the raw result."""
        raise NotImplementedError

    def run(self, branch, data):
        effective = self.effective_input(branch, data)
        retry = RetryState(len(self.retriers)) if self.retriers else None
        while True:
            try:
                result = self.attempt(branch, effective)
                return self.succeed(branch, data, result), self.next
            except StatesError as exc:
                if not exc.terminal and retry is not None:
                    delay = retry.next_delay(self.retriers, exc.error, exc.terminal)
                    if delay is not None:
                        branch.failed_event = None  # AWS: no Map/ParallelStateFailed between attempts
                        branch.sleep(delay)
                        branch.retry_count = retry.total
                        continue
                if branch.failed_event is not None:
                    branch.record(branch.failed_event)
                    branch.failed_event = None
                if exc.terminal:
                    raise
                catcher = find_catcher(self.catchers, exc.error, exc.terminal)
                if catcher is None:
                    raise
                return self.caught(branch, data, catcher, exc), catcher.next

    def succeed(self, branch, data: Any, result: Any) -> Any:
        """The state's output after a successful attempt (Assign on the raw result, ResultSelector, ResultPath,
        OutputPath); a failure here is retried and caught like the attempt's."""
        if self.assign is not None:
            branch.assigned = self.assign.resolve(result, branch.context)
        if self.result_selector is not None:
            result = self.result_selector.resolve(result, branch.context)
        return self.finish(branch, apply_result(self.result_path, data, result))

    def caught(self, branch, data: Any, catcher: Catcher, exc: StatesError) -> Any:
        """The output a catcher gives: its Assign on the error output, then its ResultPath."""
        error = error_output(exc.error, exc.cause)
        branch.assigned = catcher.assign.resolve(error, branch.context) if catcher.assign is not None else None
        return apply_result(catcher.result_path, data, error)

    def parameters_of(self, branch, effective: Any) -> Any:
        if self.parameters is None:
            return effective
        return self.parameters.resolve(effective, branch.context)


class Task(_Recoverable):
    type = "Task"
    __slots__ = ("component", "timeout_seconds", "timeout_seconds_path", "heartbeat_seconds",
                 "heartbeat_seconds_path", "credentials")

    def __init__(self, name: str, spec: dict, component: Any) -> None:
        super().__init__(name, spec)
        self.component = component  # integrations.TaskComponent, chosen from the Resource by the parser
        self.timeout_seconds = spec.get("TimeoutSeconds")
        self.timeout_seconds_path = compile_path(spec["TimeoutSecondsPath"]) if "TimeoutSecondsPath" in spec else None
        self.heartbeat_seconds = spec.get("HeartbeatSeconds")
        self.heartbeat_seconds_path = (compile_path(spec["HeartbeatSecondsPath"])
                                       if "HeartbeatSecondsPath" in spec else None)
        self.credentials = spec.get("Credentials")

    def _seconds(self, constant, path: Path | None, field: str, branch, effective) -> float | None:
        if path is None:
            return constant
        value = select(path, effective, field, branch.context)
        if type(value) not in (int, float) or value <= 0:
            raise StatesError(failures.RUNTIME, f"The {field} parameter must be a positive integer. "
                                                f"Found: {dumps(value)}")
        return value

    def attempt(self, branch, effective):
        timeout = self._seconds(self.timeout_seconds, self.timeout_seconds_path, "TimeoutSecondsPath", branch,
                                effective)
        heartbeat = self._seconds(self.heartbeat_seconds, self.heartbeat_seconds_path, "HeartbeatSecondsPath",
                                  branch, effective)
        return branch.run_task(self, effective, timeout, heartbeat)


class Parallel(_Recoverable):
    type = "Parallel"
    __slots__ = ("branches", "inline")

    def __init__(self, name: str, spec: dict, branches: list[Program]) -> None:
        super().__init__(name, spec)
        self.branches = tuple(branches)
        self.inline = all(never_waits(p) for p in self.branches)

    def attempt(self, branch, effective):
        params = self.parameters_of(branch, effective)
        return branch.run_parallel(self, params)


class Map(_Recoverable):
    type = "Map"
    __slots__ = ("items_path", "item_selector", "processor", "max_concurrency", "max_concurrency_path",
                 "tolerated_failure_count", "tolerated_failure_percentage", "processor_mode", "inline",
                 "distributed")

    def __init__(self, name: str, spec: dict, processor: Program) -> None:
        super().__init__(name, spec, parameters_field="__none__")
        self.items_path = compile_path(spec["ItemsPath"]) if "ItemsPath" in spec else IDENTITY
        selector = spec.get("ItemSelector", spec.get("Parameters"))
        self.item_selector = Template(selector) if selector is not None else None
        self.processor = processor
        self.inline = never_waits(processor)
        self.max_concurrency = spec.get("MaxConcurrency", 0)
        self.max_concurrency_path = compile_path(spec["MaxConcurrencyPath"]) if "MaxConcurrencyPath" in spec else None
        self.tolerated_failure_count = spec.get("ToleratedFailureCount")
        self.tolerated_failure_percentage = spec.get("ToleratedFailurePercentage")
        config = (spec.get("ItemProcessor") or {}).get("ProcessorConfig") or {}
        self.processor_mode = config.get("Mode", "INLINE")
        # ItemReader / ItemBatcher / ResultWriter (distributed_map.py); None when the state has none of them
        self.distributed = Distributed.from_spec(spec) if self.processor_mode == "DISTRIBUTED" else None

    def items_of(self, branch, effective: Any, reader: bool = True) -> list:
        """The items to iterate: the ItemReader's (unless ``reader`` is False) or the ItemsPath's; an array."""
        if reader and self.distributed is not None and self.distributed.reader is not None:
            items = self.distributed.reader.read(branch, effective)
        else:
            items = effective if self.items_path is IDENTITY else select(self.items_path, effective, "ItemsPath",
                                                                          branch.context)
        if not isinstance(items, list):
            raise StatesError(failures.RUNTIME,
                              f"Invalid path '{self.items_path.text}' : The value at the path must be an array: "
                              f"{dumps(items)}")
        return items

    def concurrency_of(self, branch, effective: Any) -> int:
        """MaxConcurrency, or the value MaxConcurrencyPath selects: an integer, or a number or text that is one."""
        if self.max_concurrency_path is None:
            return self.max_concurrency
        path = self.max_concurrency_path
        value = select(path, effective, "MaxConcurrencyPath", branch.context)
        concurrency = _as_integer(value)
        if concurrency is None:
            shown = value if isinstance(value, str) else dumps(value)
            raise StatesError(failures.RUNTIME, f'The MaxConcurrencyPath field refers to value "{shown}" which is not '
                                                f'a valid integer: {path.text}')
        if concurrency < 0:
            raise StatesError(failures.RUNTIME, f"Expected non-negative integer for MaxConcurrency, got "
                                                f"'{concurrency}' instead.")
        return concurrency

    def attempt(self, branch, effective):
        items = self.items_of(branch, effective)
        concurrency = self.concurrency_of(branch, effective)
        if self.distributed is not None:
            return self.distributed.run(self, branch, effective, items, concurrency)
        return branch.run_map(self, effective, items, concurrency)

    @property
    def tolerates_failures(self) -> bool:
        """Whether failed iterations may leave the Map succeeding: ToleratedFailureCount or
        ToleratedFailurePercentage is set (without either, the first failure fails the Map)."""
        return self.tolerated_failure_count is not None or self.tolerated_failure_percentage is not None

    def tolerated(self, failed: int, total: int) -> bool:
        if not self.tolerates_failures:
            return failed == 0
        if self.tolerated_failure_count is not None and failed <= self.tolerated_failure_count:
            return True
        if self.tolerated_failure_percentage is not None and total and \
                failed * 100.0 / total <= self.tolerated_failure_percentage:
            return True
        return False


def _as_integer(value: Any) -> int | None:
    """An integer, an integral number or a text holding an integer, as an int; None for anything else."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


JSONPATH_STATES = {"Pass": Pass, "Succeed": Succeed, "Fail": Fail, "Wait": Wait, "Choice": Choice, "Task": Task,
                   "Parallel": Parallel, "Map": Map}
STATE_TYPES = frozenset(JSONPATH_STATES)


def never_waits(program: Program) -> bool:
    """True when every state of ``program`` only computes: no Task, no Wait, no Parallel or Map that waits.

    Parallel branches and Map iterations made of such states are run one after another in the calling thread:
    they never block, so threads would only add start-up and switching costs (the GIL runs one at a time
    anyway). Results are the same; the history is one of the interleavings concurrent branches may produce.
    """
    for state in program.states.values():
        if state.type in ("Pass", "Choice", "Succeed", "Fail"):
            continue
        if getattr(state, "inline", False):
            continue
        return False
    return True

__all__ = ["Program", "State", "Pass", "Succeed", "Fail", "Choice", "Wait", "Task", "Parallel", "Map", "IDENTITY",
           "JSONPATH_STATES", "STATE_TYPES", "apply_result"]
