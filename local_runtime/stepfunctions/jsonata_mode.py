"""The JSONata query language: ``"{% expression %}"`` strings, ``$states``, and the JSONata variants of the states.

A state is JSONata when it sets ``"QueryLanguage": "JSONata"`` or inherits it from the enclosing scope (the top
level of the machine, or the Parallel/Map state around a branch). A JSONata scope cannot hold JSONPath states.

In a JSONata state the five JSONPath fields give way to two: ``Arguments`` (the task's or branches' input;
default: the state input) and ``Output`` (default: the state result, or the input for Pass/Wait/Choice/Succeed).
Any string of the form ``"{% ... %}"`` in ``Arguments``, ``Output``, ``Assign``, ``Items``, ``ItemSelector``,
Choice ``Condition``, Wait ``Seconds``/``Timestamp``, Task ``TimeoutSeconds``/``HeartbeatSeconds``, Map
``MaxConcurrency``/``ToleratedFailure*`` and Fail ``Error``/``Cause`` is evaluated with jsonata-python, with these
variables bound:

* ``$states.input`` (the state input), ``$states.context`` (the context object), ``$states.result`` (the Task,
  Parallel or Map result, in ``Assign`` and ``Output``), ``$states.errorOutput`` (in a Catch's ``Assign`` and
  ``Output``);
* every workflow variable (``$name``), with the values it had when the state was entered;
* the functions Step Functions adds: ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``.

An expression that throws, returns nothing (undefined), a function, or a value of the wrong type fails the state
with ``States.QueryEvaluationError``: an ``EvaluationFailed`` history event (error, cause, location = the field,
state) is recorded, and the error goes on like any other (Retry and Catch apply in Task, Parallel and Map).
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import uuid
from typing import Any

import jsonata
from jsonata.jexception import JException
from jsonata.utils import Utils as _JUtils

from . import failures
from .failures import QUERY_EVALUATION_ERROR, StatesError
from .payloads import dumps
from .retry import Catcher, error_output
from .states import Choice, Fail, Map, Parallel, Pass, Succeed, Task, Wait
from .timefmt import parse_timestamp

JSONPATH, JSONATA = "JSONPath", "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

# fields a JSONata state cannot have, and the reverse
JSONPATH_ONLY = ("InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath", "SecondsPath",
                 "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
                 "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath")
JSONATA_ONLY = ("Arguments", "Output", "Items")
_JSONPATH_RULE_FIELDS = ("Variable", "And", "Or", "Not")

_UNSET = object()
_NULL = _JUtils.NULL_VALUE
MAX_WAIT_SECONDS = 99999999


class JsonataSyntaxError(ValueError):
    pass


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


# -- values in and out of jsonata-python ------------------------------------------------------------------------


def _to_jsonata(value: Any) -> Any:
    return _NULL if value is None else value  # nested None is already read as null


def _from_jsonata(value: Any) -> Any:
    """jsonata-python's result as plain JSON values (null marker -> None, sequences -> list, 2.0 -> 2)."""
    if value is _NULL or value is None:
        return None
    kind = type(value)
    if kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value
    if isinstance(value, dict):
        return {key: _from_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_jsonata(item) for item in value]
    raise _Unsupported()


class _Unsupported(Exception):
    """A result that is no JSON value (a function, a regex)."""


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# -- the functions Step Functions adds --------------------------------------------------------------------------


class _FunctionError(Exception):
    pass


def _sfn_partition(array: Any, size: Any) -> list:
    array, size = _from_jsonata(array), _from_jsonata(size)
    if not isinstance(array, list) or type(size) is not int or size <= 0:
        raise _FunctionError("$partition takes an array and a positive integer chunk size")
    return [array[i:i + size] for i in range(0, len(array), size)]


def _sfn_range(start: Any, end: Any, step: Any) -> list:
    start, end, step = _from_jsonata(start), _from_jsonata(end), _from_jsonata(step)
    if not all(type(v) is int for v in (start, end, step)) or step == 0:
        raise _FunctionError("$range takes three integers (start, end, non-zero step)")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise _FunctionError("$range can give at most 1000 values")
    return values[0] if len(values) == 1 else values  # AWS gives a one-value range as the value


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _sfn_hash(data: Any, algorithm: Any) -> str:
    data, algorithm = _from_jsonata(data), _from_jsonata(algorithm)
    if algorithm not in _HASHES:
        raise _FunctionError(f"$hash algorithm must be one of {sorted(_HASHES)}")
    text = data if isinstance(data, str) else dumps(data)
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _sfn_random(seed: Any = None) -> float:
    seed = _from_jsonata(seed)
    return (random.Random(seed) if seed is not None else random).random()


def _sfn_uuid() -> str:
    return str(uuid.uuid4())


def _sfn_parse(text: Any) -> Any:
    text = _from_jsonata(text)
    if not isinstance(text, str):
        raise _FunctionError("$parse takes a JSON string")
    try:
        return _to_jsonata(json.loads(text))
    except ValueError:
        raise _FunctionError("$parse could not parse its argument: it is not a valid JSON text") from None


def _sfn_eval(*_args: Any) -> Any:
    raise _FunctionError("The function $eval is not supported in Step Functions; use $parse")


_FUNCTIONS = {
    "partition": jsonata.Jsonata.JLambda(_sfn_partition),
    "range": jsonata.Jsonata.JLambda(_sfn_range),
    "hash": jsonata.Jsonata.JLambda(_sfn_hash),
    "random": jsonata.Jsonata.JLambda(_sfn_random),
    "uuid": jsonata.Jsonata.JLambda(_sfn_uuid),
    "parse": jsonata.Jsonata.JLambda(_sfn_parse),
    "eval": jsonata.Jsonata.JLambda(_sfn_eval),
}


# -- evaluation -------------------------------------------------------------------------------------------------


class Env:
    """What one evaluation sees: the branch (variables, context object), ``$states.input``/``result``/
    ``errorOutput``. The bindings are built once per Env."""

    __slots__ = ("branch", "input", "result", "error_output", "_bindings")

    def __init__(self, branch, input_value: Any, result: Any = _UNSET, error_out: Any = _UNSET) -> None:
        self.branch = branch
        self.input = input_value
        self.result = result
        self.error_output = error_out
        self._bindings: dict | None = None

    def bindings(self) -> dict:
        if self._bindings is None:
            bindings = dict(_FUNCTIONS)
            scope = getattr(self.branch, "variables", None)
            if scope is not None:
                for name, value in scope.values.items():
                    bindings[name] = _to_jsonata(value)
            states = {"input": _to_jsonata(self.input), "context": self.branch.context()}
            if self.result is not _UNSET:
                states["result"] = _to_jsonata(self.result)
            if self.error_output is not _UNSET:
                states["errorOutput"] = self.error_output
            bindings["states"] = states
            self._bindings = bindings
        return self._bindings


def evaluation_error(branch, field: str | None, cause: str, follows_entered: bool = False) -> StatesError:
    """Record ``EvaluationFailed`` and return the ``States.QueryEvaluationError`` to raise (``field`` None: an
    event without ``location``, as AWS records a Map whose input is no array)."""
    state = branch.state_name
    decorated = (f"An error occurred while executing the state '{state}' (entered at the event id "
                 f"#{getattr(branch, 'entered_event', 0)}). {cause}")
    # AWS records this event with the previousEventId of the state's StateEntered event (0 for the first state) for
    # an expression that fails (Output, Assign, Arguments), with the StateEntered event itself as previous for a
    # Wait Timestamp that is no timestamp (``follows_entered``); the execution's closing event follows it
    entered = getattr(branch, "entered_event", 0)
    previous = (entered if follows_entered else branch.history.previous_of(entered)) if entered else 0
    details = {"error": QUERY_EVALUATION_ERROR, "cause": decorated, "location": field, "state": state}
    if field is None:
        del details["location"]
    branch.prev = branch.history.add("EvaluationFailed", previous, details)
    return StatesError(QUERY_EVALUATION_ERROR, decorated)


class Expression:
    """One ``"{% ... %}"`` string, parsed once."""

    __slots__ = ("source", "text", "_compiled")

    def __init__(self, source: str) -> None:
        self.source = source
        self.text = source[2:-2].strip()
        if not self.text:
            raise JsonataSyntaxError(f"The JSONata expression '{source}' is empty")
        try:
            compiled = jsonata.Jsonata(self.text)
        except JException as exc:
            raise JsonataSyntaxError(f"The JSONata expression '{self.text}' is not valid: {exc}") from None
        if compiled.get_errors():
            raise JsonataSyntaxError(f"The JSONata expression '{self.text}' is not valid")
        compiled.set_output_convert_nulls(False)
        self._compiled = compiled

    def evaluate(self, env: Env, field: str) -> Any:
        # jsonata-python keeps evaluation state on the instance (and a per-thread "current" instance):
        # a shallow copy per evaluation lets Map iterations evaluate the same expression at once
        instance = copy.copy(self._compiled)
        jsonata.Jsonata.CURRENT.jsonata = instance
        try:
            value = instance.evaluate(None, env.bindings())
        except (JException, _FunctionError, RecursionError, ValueError, TypeError, ArithmeticError) as exc:
            raise evaluation_error(env.branch, field, f"The JSONata expression '{self.text}' specified for the field "
                                                      f"'{field}' threw an error during evaluation. "
                                                      f"{_evaluation_message(exc)}") from None
        if value is None:
            raise evaluation_error(env.branch, field, f"The JSONata expression '{self.text}' specified for the field "
                                                      f"'{field}' returned nothing (undefined).")
        try:
            return _from_jsonata(value)
        except _Unsupported:
            raise evaluation_error(env.branch, field, f"The JSONata expression '{self.text}' specified for the field "
                                                      f"'{field}' returned an unsupported result type.") from None

    def expect(self, env: Env, field: str, expected: str, accepts) -> Any:
        value = self.evaluate(env, field)
        if not accepts(value):
            raise evaluation_error(env.branch, field, f"The JSONata expression '{self.text}' specified for the field "
                                                      f"'{field}' returned an unexpected result type. Expected "
                                                      f"'{expected}', but was '{_type_name(value)}' for value: "
                                                      f"{dumps(value)}")
        return value


def _evaluation_message(exc: Exception) -> str:
    """What AWS writes after "threw an error during evaluation.": JSONata's ``CODE: message`` (as AWS's JSONata
    reports it), never a Python exception's text."""
    if isinstance(exc, JException):
        code = getattr(exc, "error", None)
        return f"{code}: {exc}" if code else str(exc)
    if isinstance(exc, _FunctionError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "Stack overflow error: the expression nests too deeply"
    if isinstance(exc, ZeroDivisionError):
        return "D1001: Number out of range"
    if isinstance(exc, ValueError):
        return "D3030: Unable to cast value to a number"
    return "T0410: Argument of a function does not match its signature"


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, env: Env, field: str) -> Any:
        return self.value


class _Object:
    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items

    def evaluate(self, env: Env, field: str) -> Any:
        # AWS names the field of a nested expression by its path in the state: Output/a/b, Arguments/x[0]
        return {key: node.evaluate(env, f"{field}/{key}") for key, node in self.items}


class _Array:
    __slots__ = ("nodes",)

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes

    def evaluate(self, env: Env, field: str) -> Any:
        return [node.evaluate(env, f"{field}[{index}]") for index, node in enumerate(self.nodes)]


def compile_template(value: Any):
    """A JSON value whose ``"{% %}"`` strings (at any depth) are expressions; raises JsonataSyntaxError."""
    if is_expression(value):
        return Expression(value)
    if isinstance(value, dict):
        items = [(key, compile_template(child)) for key, child in value.items()]
        if all(isinstance(node, _Const) for _, node in items):
            return _Const(value)
        return _Object(items)
    if isinstance(value, list):
        nodes = [compile_template(child) for child in value]
        if all(isinstance(node, _Const) for node in nodes):
            return _Const(value)
        return _Array(nodes)
    return _Const(value)


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

    def __init__(self, name: str, spec: dict) -> None:
        super().__init__(name, _jsonpath_view(spec), [])
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

    def __init__(self, name: str, spec: dict, resource) -> None:
        Task.__init__(self, name, _jsonpath_view(spec), resource)
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


class _MapRun:
    """The Map state as ``Branch.run_map`` sees it for one run: the state, with the tolerated failure count and
    percentage its expressions gave (the state itself is shared by executions and never changes)."""

    __slots__ = ("state", "tolerated_failure_count", "tolerated_failure_percentage")

    def __init__(self, state: "JsonataMap", count: Any, percentage: Any) -> None:
        self.state = state
        self.tolerated_failure_count = count
        self.tolerated_failure_percentage = percentage

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)

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
        return branch.run_map(_MapRun(self, count, percentage), effective, items, concurrency)

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
                                                    f"but was '{_type_name(items)}' for value: {dumps(items)}")
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


# -- definition checks ------------------------------------------------------------------------------------------


def state_language(spec: dict, inherited: str, where: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The state's query language and the problems of its QueryLanguage field."""
    value = spec.get("QueryLanguage", inherited)
    if value not in QUERY_LANGUAGES:
        return inherited, [("SCHEMA_VALIDATION_FAILED", "The field 'QueryLanguage' should have one of these values: "
                                                        "[JSONPath, JSONata]", f"{where}/QueryLanguage")]
    if inherited == JSONATA and value == JSONPATH:
        return JSONATA, [("SCHEMA_VALIDATION_FAILED", "A JSONPath state cannot be nested in a JSONata scope",
                          f"{where}/QueryLanguage")]
    return value, []


def field_problems(spec: dict, state_type: str, language: str, where: str) -> list[tuple[str, str, str]]:
    """Fields of the other query language, bad expressions and bad variable names."""
    from .variables import assign_problems

    out: list[tuple[str, str, str]] = []
    jsonata_mode = language == JSONATA
    banned = JSONPATH_ONLY if jsonata_mode else JSONATA_ONLY
    for field in banned:
        if field in spec:
            out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the QueryLanguage is "
                                                    f"{language}", f"{where}/{field}"))
    if "Assign" in spec:
        out += assign_problems(spec["Assign"], f"{where}/Assign", jsonpath=not jsonata_mode)
    for i, catcher in enumerate(spec.get("Catch") or ()):
        if not isinstance(catcher, dict):
            continue
        for field in (("ResultPath",) if jsonata_mode else ("Output",)):
            if field in catcher:
                out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the QueryLanguage "
                                                        f"is {language}", f"{where}/Catch[{i}]/{field}"))
        if "Assign" in catcher:
            out += assign_problems(catcher["Assign"], f"{where}/Catch[{i}]/Assign", jsonpath=not jsonata_mode)
    if state_type == "Choice":
        for i, rule in enumerate(spec.get("Choices") or ()):
            if not isinstance(rule, dict):
                continue
            rule_where = f"{where}/Choices[{i}]"
            if jsonata_mode:
                for field in _JSONPATH_RULE_FIELDS:
                    if field in rule:
                        out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the "
                                                                f"QueryLanguage is JSONata", f"{rule_where}/{field}"))
                if "Condition" not in rule:
                    out.append(("SCHEMA_VALIDATION_FAILED", "These fields are required: [Condition]", rule_where))
            else:
                for field in ("Condition", "Output"):
                    if field in rule:
                        out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the "
                                                                f"QueryLanguage is JSONPath", f"{rule_where}/{field}"))
            if "Assign" in rule:
                out += assign_problems(rule["Assign"], f"{rule_where}/Assign", jsonpath=not jsonata_mode)
    if jsonata_mode:
        out += _expression_problems(spec, state_type, where)
    return out


_EXPRESSION_FIELDS = ("Arguments", "Output", "Assign", "Items", "ItemSelector")
_NUMBER_FIELDS = {"Seconds": "Wait", "TimeoutSeconds": "Task", "HeartbeatSeconds": "Task",
                  "MaxConcurrency": "Map", "ToleratedFailureCount": "Map", "ToleratedFailurePercentage": "Map"}


def _expression_problems(spec: dict, state_type: str, where: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []

    def check(value: Any, field_where: str) -> None:
        try:
            compile_template(value)
        except JsonataSyntaxError as exc:
            out.append(("SCHEMA_VALIDATION_FAILED", str(exc), field_where))

    for field in _EXPRESSION_FIELDS:
        if field in spec:
            check(spec[field], f"{where}/{field}")
    for field, owner in _NUMBER_FIELDS.items():
        value = spec.get(field)
        if value is None or state_type != owner:
            continue
        if isinstance(value, str):
            if is_expression(value):
                check(value, f"{where}/{field}")
            else:
                out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' must be a number or a JSONata "
                                                        f"expression", f"{where}/{field}"))
    if state_type == "Wait" and isinstance(spec.get("Timestamp"), str):
        value = spec["Timestamp"]
        if is_expression(value):
            check(value, f"{where}/Timestamp")
        elif parse_timestamp(value) is None:
            out.append(("SCHEMA_VALIDATION_FAILED", "The value for the field 'Timestamp' must be a valid ISO-8601 "
                                                    "timestamp or a JSONata expression", f"{where}/Timestamp"))
    if state_type == "Fail":
        for field in ("Error", "Cause"):
            if is_expression(spec.get(field)):
                check(spec[field], f"{where}/{field}")
    for i, catcher in enumerate(spec.get("Catch") or ()):
        if isinstance(catcher, dict):
            for field in ("Output", "Assign"):
                if field in catcher:
                    check(catcher[field], f"{where}/Catch[{i}]/{field}")
    if state_type == "Choice":
        for i, rule in enumerate(spec.get("Choices") or ()):
            if isinstance(rule, dict):
                for field in ("Condition", "Output", "Assign"):
                    if field in rule:
                        check(rule[field], f"{where}/Choices[{i}]/{field}")
                condition = rule.get("Condition")
                if "Condition" in rule and not is_expression(condition) and not isinstance(condition, bool):
                    out.append(("SCHEMA_VALIDATION_FAILED", "The field 'Condition' must be a boolean or a JSONata "
                                                            "expression", f"{where}/Choices[{i}]/Condition"))
    return out


def build_state(state_type: str, name: str, spec: dict, resource=None, branches=None, processor=None):
    """The JSONata variant of a state whose fields ``field_problems`` accepted."""
    if state_type == "Pass":
        return JsonataPass(name, spec)
    if state_type == "Succeed":
        return JsonataSucceed(name, spec)
    if state_type == "Fail":
        return JsonataFail(name, spec)
    if state_type == "Wait":
        return JsonataWait(name, spec)
    if state_type == "Choice":
        return JsonataChoice(name, spec)
    if state_type == "Task":
        return JsonataTask(name, spec, resource)
    if state_type == "Parallel":
        return JsonataParallel(name, spec, branches)
    if state_type == "Map":
        return JsonataMap(name, spec, processor)
    raise ValueError(f"Unknown state type {state_type}")


__all__ = ["JSONPATH", "JSONATA", "Expression", "Env", "compile_template", "is_expression", "evaluation_error",
           "state_language", "field_problems", "build_state", "JsonataSyntaxError"]
