"""JSONata expressions: ``"{% expression %}"`` strings, the ``$states`` bindings and Step Functions' functions.

Any string of the form ``"{% ... %}"`` in a JSONata state's ``Arguments``, ``Output``, ``Assign``, ``Items``,
``ItemSelector``, Choice ``Condition``, Wait ``Seconds``/``Timestamp``, Task ``TimeoutSeconds``/``HeartbeatSeconds``,
Map ``MaxConcurrency``/``ToleratedFailure*`` and Fail ``Error``/``Cause`` is parsed once (``compile_template``) and
evaluated with jsonata-python, with these variables bound:

* ``$states.input`` (the state input), ``$states.context`` (the context object), ``$states.result`` (the Task,
  Parallel or Map result, in ``Assign`` and ``Output``), ``$states.errorOutput`` (in a Catch's ``Assign`` and
  ``Output``);
* every workflow variable (``$name``), with the values it had when the state was entered;
* the functions Step Functions adds: ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``.

An expression that throws, returns nothing (undefined), a function, or a value of the wrong type fails the state
with ``States.QueryEvaluationError``: an ``EvaluationFailed`` history event (error, cause, location = the field,
state) is recorded on the running branch (``evaluation_error``), and the error goes on like any other. The states
that use these expressions are in jsonata_states.py; the definition checks in language.py.
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

from .failures import QUERY_EVALUATION_ERROR, StatesError
from .intrinsics import Literal
from .payloads import dumps

_UNSET = object()
_NULL = _JUtils.NULL_VALUE


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


_TYPE_NAMES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def type_name(value: Any) -> str:
    """JSONata's name of a JSON value's type, as AWS quotes it (``Expected 'array', but was 'object'``)."""
    return _TYPE_NAMES.get(type(value), "object")


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
                                                      f"'{expected}', but was '{type_name(value)}' for value: "
                                                      f"{dumps(value)}")
        return value


# what an evaluation failure of jsonata-python says, by the Python exception it raised (the first match wins)
_FAILURE_MESSAGES = (
    (RecursionError, "Stack overflow error: the expression nests too deeply"),
    (ZeroDivisionError, "D1001: Number out of range"),
    (ValueError, "D3030: Unable to cast value to a number"),
)


def _evaluation_message(exc: Exception) -> str:
    """What AWS writes after "threw an error during evaluation.": JSONata's ``CODE: message`` (as AWS's JSONata
    reports it), never a Python exception's text."""
    if isinstance(exc, JException):
        code = getattr(exc, "error", None)
        return f"{code}: {exc}" if code else str(exc)
    if isinstance(exc, _FunctionError):
        return str(exc)
    for kind, message in _FAILURE_MESSAGES:
        if isinstance(exc, kind):
            return message
    return "T0410: Argument of a function does not match its signature"


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
    """A JSON value whose ``"{% %}"`` strings (at any depth) are expressions; raises JsonataSyntaxError. A subtree
    without expressions is one constant."""
    if is_expression(value):
        return Expression(value)
    if isinstance(value, dict):
        children = [compile_template(child) for child in value.values()]
        node = _Object(list(zip(value, children)))
    elif isinstance(value, list):
        children = [compile_template(child) for child in value]
        node = _Array(children)
    else:
        return Literal(value)
    return node if any(type(child) is not Literal for child in children) else Literal(value)


__all__ = ["Expression", "Env", "compile_template", "is_expression", "evaluation_error", "type_name",
           "JsonataSyntaxError"]
