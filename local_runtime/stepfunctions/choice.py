"""Choice rules compiled into predicates: comparison operators, their ``*Path`` variants, And/Or/Not, type tests.

A comparison on a value of the wrong type is false (the spec). A ``Variable`` that does not exist fails the
execution with ``States.Runtime``, except under ``IsPresent``.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from .failures import RUNTIME, StatesError
from .paths import Path, PathNotFound, compile_path
from .timefmt import parse_timestamp

Predicate = Callable[[Any, Callable[[], dict]], bool]

def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_string(value: Any) -> bool:
    return type(value) is str


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def string_matches(value: str, pattern: str) -> bool:
    """``*`` is a wildcard, ``\\*`` a literal star, ``\\\\`` a literal backslash."""
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


_COMPARE = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

_KINDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "String": (_is_string, lambda v: v),
    "Numeric": (_is_number, lambda v: v),
    "Boolean": (_is_bool, lambda v: v),
    "Timestamp": (lambda v: parse_timestamp(v) is not None, parse_timestamp),
}

COMPARISON_OPERATORS: dict[str, tuple[str, str, bool]] = {}
for _kind in _KINDS:
    for _op in _COMPARE:
        if _kind == "Boolean" and _op != "Equals":
            continue
        COMPARISON_OPERATORS[f"{_kind}{_op}"] = (_kind, _op, False)
        COMPARISON_OPERATORS[f"{_kind}{_op}Path"] = (_kind, _op, True)
COMPARISON_OPERATORS["StringMatches"] = ("String", "Matches", False)

TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")


class ChoiceRuleError(ValueError):
    pass


def _lookup(path: Path, data: Any, context: Callable[[], dict]) -> Any:
    try:
        return path.find(context() if path.context else data)
    except PathNotFound:
        raise StatesError(
            RUNTIME, f"Invalid path '{path.text}': The choice state's condition path references an invalid value."
        ) from None


def compile_rule(rule: dict) -> Predicate:
    """Compile one boolean expression (a Choice rule without its ``Next``)."""
    if "And" in rule or "Or" in rule:
        key = "And" if "And" in rule else "Or"
        subs = [compile_rule(sub) for sub in rule[key]]
        if not subs:
            raise ChoiceRuleError(f"'{key}' must hold at least one rule")
        if key == "And":
            return lambda data, ctx: all(sub(data, ctx) for sub in subs)
        return lambda data, ctx: any(sub(data, ctx) for sub in subs)
    if "Not" in rule:
        sub = compile_rule(rule["Not"])
        return lambda data, ctx: not sub(data, ctx)
    if "Variable" not in rule:
        raise ChoiceRuleError("a Choice rule needs a 'Variable' or one of 'And', 'Or', 'Not'")
    variable = compile_path(rule["Variable"])
    operators = [key for key in rule if key in COMPARISON_OPERATORS or key in TYPE_TESTS]
    if len(operators) != 1:
        raise ChoiceRuleError(f"a Choice rule needs exactly one comparison operator, found {operators or 'none'}")
    operator = operators[0]
    operand = rule[operator]

    if operator in TYPE_TESTS:
        if not isinstance(operand, bool):
            raise ChoiceRuleError(f"'{operator}' takes a boolean")
        if operator == "IsPresent":
            def is_present(data, ctx):
                try:
                    variable.find(ctx() if variable.context else data)
                    present = True
                except PathNotFound:
                    present = False
                return present is operand
            return is_present
        test = {
            "IsNull": lambda v: v is None,
            "IsNumeric": _is_number,
            "IsString": _is_string,
            "IsBoolean": _is_bool,
            "IsTimestamp": lambda v: parse_timestamp(v) is not None,
        }[operator]

        def type_test(data, ctx):
            try:
                value = variable.find(ctx() if variable.context else data)
            except PathNotFound:
                return False is operand  # an absent variable is not null, not numeric, ...
            return test(value) is operand
        return type_test

    kind, op, is_path = COMPARISON_OPERATORS[operator]
    accepts, convert = _KINDS[kind]
    if op == "Matches":
        if not isinstance(operand, str):
            raise ChoiceRuleError("'StringMatches' takes a string")

        def matches(data, ctx):
            value = _lookup(variable, data, ctx)
            return _is_string(value) and string_matches(value, operand)
        return matches

    compare = _COMPARE[op]
    if is_path:
        other_path = compile_path(operand)

        def compare_path(data, ctx):
            value = _lookup(variable, data, ctx)
            other = _lookup(other_path, data, ctx)
            if not (accepts(value) and accepts(other)):
                return False
            return compare(convert(value), convert(other))
        return compare_path

    if not accepts(operand):
        raise ChoiceRuleError(f"'{operator}' takes a {kind.lower()} value, not {operand!r}")
    constant = convert(operand)

    def compare_value(data, ctx):
        value = _lookup(variable, data, ctx)
        if not accepts(value):
            return False
        return compare(convert(value), constant)
    return compare_value
