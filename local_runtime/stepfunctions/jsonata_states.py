"""The JSONata variants of the states (``"QueryLanguage": "JSONata"``, set on the state or inherited).

In a JSONata state the five JSONPath fields give way to two: ``Arguments`` (the task's or branches' input;
default: the state input) and ``Output`` (default: the state result, or the input for Pass/Wait/Choice/Succeed).
Each class extends its JSONPath state (states.py) and evaluates the expressions of jsonata_expressions.py.
"""
from __future__ import annotations

from typing import Any

from . import failures
from .failures import StatesError
from .jsonata_expressions import Env, Expression, compile_template, evaluation_error, is_expression, type_name
from .payloads import dumps
from .retry import Catcher, error_output
from .states import Choice, Fail, Map, Parallel, Pass, Succeed, Task, Wait
from .timefmt import parse_timestamp

MAX_WAIT_SECONDS = 99999999


def _optional(spec: dict, field: str):
    return compile_template(spec[field]) if field in spec else None


def _jsonpath_view(spec: dict) -> dict:
    """``spec`` without the fields whose JSONata form the JSONPath base classes would compile as JSONPath."""
    view = {k: v for k, v in spec.items() if k not in ("Assign", "ItemSelector")}
    if isinstance(spec.get("Catch"), list):
        view["Catch"] = [{k: v for k, v in c.items() if k != "Assign"} if isinstance(c, dict) else c
                         for c in spec["Catch"]]
    return view


def _conclude(branch, env: Env, assign, output, default: Any, where: str = "") -> Any:
    """Assign, then Output, both against the values at state entry; the assignment is committed by the branch.
    ``where`` names the Choice rule or catcher that holds them (``Choices[1]/``, ``Catch[0]/``)."""
    assigned = assign.evaluate(env, f"{where}Assign") if assign is not None else None
    value = output.evaluate(env, f"{where}Output") if output is not None else default
    branch.assigned = assigned
    return value


def _is_non_negative_int(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_WAIT_SECONDS


def _is_positive_int(value: Any) -> bool:
    return type(value) is int and value > 0


# -- the states -------------------------------------------------------------------------------------------------


class JsonataPass(Pass):
    __slots__ = ("output",)

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, _jsonpath_view(spec))
        self.assign = _optional(spec, "Assign")
        self.output = _optional(spec, "Output")

    def run(self, branch, data):
        result = self.result if self.has_result else data
        env = Env(branch, data, result)
        return _conclude(branch, env, self.assign, self.output, result), self.next


class JsonataSucceed(Succeed):
    __slots__ = ("output",)

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, spec)
        self.output = _optional(spec, "Output")

    def run(self, branch, data):
        return _conclude(branch, Env(branch, data), None, self.output, data), None


class JsonataFail(Fail):
    __slots__ = ("error_expr", "cause_expr")

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, spec)
        self.error_expr = compile_template(spec["Error"]) if is_expression(spec.get("Error")) else None
        self.cause_expr = compile_template(spec["Cause"]) if is_expression(spec.get("Cause")) else None

    def run(self, branch, data):
        env = Env(branch, data)
        error = self.error_expr.expect(env, "Error", "string", lambda v: isinstance(v, str)) \
            if self.error_expr is not None else self.error
        cause = self.cause_expr.expect(env, "Cause", "string", lambda v: isinstance(v, str)) \
            if self.cause_expr is not None else self.cause
        raise StatesError(error or "", cause or "")


class JsonataWait(Wait):
    __slots__ = ("seconds_expr", "timestamp_expr", "output")

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, _jsonpath_view(spec))
        self.seconds_expr = Expression(spec["Seconds"]) if is_expression(spec.get("Seconds")) else None
        self.timestamp_expr = Expression(spec["Timestamp"]) if is_expression(spec.get("Timestamp")) else None
        if self.seconds_expr is not None:
            self.seconds = None
        self.assign = _optional(spec, "Assign")
        self.output = _optional(spec, "Output")

    def run(self, branch, data):
        env = Env(branch, data)
        if self.seconds_expr is not None:
            seconds = float(self.seconds_expr.expect(env, "Seconds", "integer", _is_non_negative_int))
        elif self.seconds is not None:
            seconds = float(self.seconds)
        else:
            when = self.timestamp
            if self.timestamp_expr is not None:
                text = self.timestamp_expr.expect(env, "Timestamp", "string", lambda v: isinstance(v, str))
                when = parse_timestamp(text)
                if when is None:  # AWS's words (AWS-recorded)
                    raise evaluation_error(branch, "Timestamp", f"The Timestamp field cannot be parsed as an ISO-8601 "
                                                                f"extended offset date-time format string: {text}",
                                           follows_entered=True)
            seconds = (when - branch.clock.now()).total_seconds()
        if seconds > 0:
            branch.sleep(seconds)
        return _conclude(branch, env, self.assign, self.output, data), self.next


class JsonataChoice(Choice):
    """Rules are ``{"Condition": "{% ... %}", "Next": ..., "Assign"?, "Output"?}``; the state's own Assign and
    Output apply when no rule matches and the Default is taken."""

    __slots__ = ("rules", "output")

    def __init__(self, name: str, spec: dict, choices: Any = ()) -> None:
        super().__init__(name, _jsonpath_view(spec), [])  # ``choices``: the parser's placeholders, one per rule
        rules = []
        for rule in spec["Choices"]:
            condition = rule["Condition"]
            rules.append((compile_template(condition), rule["Next"], _optional(rule, "Assign"),
                          _optional(rule, "Output")))
        self.rules = tuple(rules)
        self.assign = _optional(spec, "Assign")
        self.output = _optional(spec, "Output")

    def run(self, branch, data):
        env = Env(branch, data)
        for index, (condition, target, assign, output) in enumerate(self.rules):
            where = f"Choices[{index}]/"
            if isinstance(condition, Expression):
                matched = condition.expect(env, f"{where}Condition", "boolean", lambda v: isinstance(v, bool))
            else:
                matched = condition.value is True
            if matched:
                return _conclude(branch, env, assign, output, data, where), target
        if self.default is not None:
            return _conclude(branch, env, self.assign, self.output, data), self.default
        raise StatesError(failures.NO_CHOICE_MATCHED, "No Matches!")


class _JsonataRecoverable:
    """Arguments, Output, Assign and the Catch fields of Task, Parallel and Map (mixed in before the state class)."""

    __slots__ = ()

    def _init_jsonata(self, spec: dict) -> None:
        self.arguments = _optional(spec, "Arguments")
        self.assign = _optional(spec, "Assign")
        self.output = _optional(spec, "Output")
        self.catchers = tuple(
            Catcher(error_equals=tuple(c["ErrorEquals"]), next=c["Next"], result_path=None,
                    assign=_optional(c, "Assign"), output=_optional(c, "Output"))
            for c in spec.get("Catch", ())
        )

    def parameters_of(self, branch, effective):
        if self.arguments is None:
            return effective
        return self.arguments.evaluate(Env(branch, effective), "Arguments")

    def succeed(self, branch, data, result):
        return _conclude(branch, Env(branch, data, result), self.assign, self.output, result)

    def caught(self, branch, data, catcher, exc):
        error = error_output(exc.error, exc.cause)
        where = f"Catch[{self.catchers.index(catcher)}]/"
        return _conclude(branch, Env(branch, data, error_out=error), catcher.assign, catcher.output, error, where)


def _int_or_expression(spec: dict, field: str):
    value = spec.get(field)
    return Expression(value) if is_expression(value) else value


class JsonataTask(_JsonataRecoverable, Task):
    __slots__ = ("arguments", "output", "timeout_expr", "heartbeat_expr")

    def __init__(self, name: str, spec: dict, component) -> None:
        Task.__init__(self, name, _jsonpath_view(spec), component)
        self._init_jsonata(spec)
        self.timeout_expr = _int_or_expression(spec, "TimeoutSeconds")
        self.heartbeat_expr = _int_or_expression(spec, "HeartbeatSeconds")
        if isinstance(self.timeout_expr, Expression):
            self.timeout_seconds = None
        if isinstance(self.heartbeat_expr, Expression):
            self.heartbeat_seconds = None

    def _seconds_of(self, value, field: str, env: Env) -> float | None:
        if isinstance(value, Expression):
            return value.expect(env, field, "integer", _is_positive_int)
        return value

    def attempt(self, branch, effective):
        env = Env(branch, effective)
        timeout = self._seconds_of(self.timeout_expr, "TimeoutSeconds", env)
        heartbeat = self._seconds_of(self.heartbeat_expr, "HeartbeatSeconds", env)
        return branch.run_task(self, effective, timeout, heartbeat)


class JsonataParallel(_JsonataRecoverable, Parallel):
    __slots__ = ("arguments", "output")

    def __init__(self, name: str, spec: dict, branches) -> None:
        Parallel.__init__(self, name, _jsonpath_view(spec), branches)
        self._init_jsonata(spec)


class _ItemSelector:
    """A JSONata ItemSelector, in the ``resolve(effective, context)`` shape ``Branch.run_map`` calls; the context
    callable is the iteration branch's ``context`` method, whose branch gives variables and the error path."""

    __slots__ = ("template",)

    def __init__(self, template) -> None:
        self.template = template

    def resolve(self, effective: Any, context) -> Any:
        return self.template.evaluate(Env(context.__self__, effective), "ItemSelector")


class MapRunSettings:
    """The Map state as ``Branch.run_map`` (and TestState) sees it for one run: the state, with the tolerated
    failure count and percentage of this run, which a JSONata Map's expressions gave (the state itself is shared by
    executions and never changes)."""

    __slots__ = ("state", "tolerated_failure_count", "tolerated_failure_percentage")

    def __init__(self, state: Map, count: Any, percentage: Any) -> None:
        self.state = state
        self.tolerated_failure_count = count
        self.tolerated_failure_percentage = percentage

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)

    tolerates_failures = Map.tolerates_failures  # from this run's count and percentage, not the state's expressions

    def tolerated(self, failed: int, total: int) -> bool:
        return Map.tolerated(self, failed, total)


class JsonataMap(_JsonataRecoverable, Map):
    __slots__ = ("arguments", "output", "items", "concurrency_expr", "count_expr", "percentage_expr")

    def __init__(self, name: str, spec: dict, processor) -> None:
        Map.__init__(self, name, _jsonpath_view(spec), processor)
        self._init_jsonata(spec)
        self.arguments = None  # a Map has no Arguments: ItemSelector shapes each item
        self.items = _optional(spec, "Items")
        selector = spec.get("ItemSelector")
        self.item_selector = _ItemSelector(compile_template(selector)) if selector is not None else None
        self.concurrency_expr = _int_or_expression(spec, "MaxConcurrency")
        self.count_expr = _int_or_expression(spec, "ToleratedFailureCount")
        self.percentage_expr = _int_or_expression(spec, "ToleratedFailurePercentage")

    def attempt(self, branch, effective):
        try:
            items, concurrency, count, percentage = self.settings(branch, effective)
        except StatesError:
            branch.failed_event = "MapStateFailed"  # AWS records it after the EvaluationFailed event
            raise
        return branch.run_map(MapRunSettings(self, count, percentage), effective, items, concurrency)

    def settings(self, branch, effective) -> tuple[list, int, Any, Any]:
        """(items, MaxConcurrency, ToleratedFailureCount, ToleratedFailurePercentage), expressions evaluated."""
        env = Env(branch, effective)
        items = effective if self.items is None else self.items.evaluate(env, "Items")
        if not isinstance(items, list) and self.items is None:  # AWS's words (AWS-recorded)
            raise evaluation_error(branch, None, f"Map state input must be an array but was: {dumps(items)}")
        if not isinstance(items, list):
            source = self.items.text if isinstance(self.items, Expression) else dumps(self.items)
            raise evaluation_error(branch, "Items", f"The JSONata expression '{source}' specified for the field "
                                                    f"'Items' returned an unexpected result type. Expected 'array', "
                                                    f"but was '{type_name(items)}' for value: {dumps(items)}")
        concurrency = self.concurrency_expr if self.concurrency_expr is not None else 0
        if isinstance(concurrency, Expression):
            concurrency = concurrency.expect(env, "MaxConcurrency", "integer",
                                             lambda v: type(v) is int and v >= 0)
        count, percentage = self.count_expr, self.percentage_expr
        if isinstance(count, Expression):
            count = count.expect(env, "ToleratedFailureCount", "integer", lambda v: type(v) is int and v >= 0)
        if isinstance(percentage, Expression):
            percentage = percentage.expect(env, "ToleratedFailurePercentage", "number",
                                           lambda v: type(v) in (int, float) and 0 <= v <= 100)
        return items, concurrency, count, percentage




JSONATA_STATES = {"Pass": JsonataPass, "Succeed": JsonataSucceed, "Fail": JsonataFail, "Wait": JsonataWait,
                  "Choice": JsonataChoice, "Task": JsonataTask, "Parallel": JsonataParallel, "Map": JsonataMap}

__all__ = ["JSONATA_STATES", "JsonataPass", "JsonataSucceed", "JsonataFail", "JsonataWait", "JsonataChoice",
           "JsonataTask", "JsonataParallel", "JsonataMap"]
