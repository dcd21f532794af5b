"""Event patterns (content filtering), as the EventBridge user guide defines them.

Used by EventBridge rules (events/models.py) and Lambda event-source filters (``FilterCriteria``,
awslambda/event_sources/dynamodb_streams.py), whose syntax Lambda documents as EventBridge's: one matcher, one set of
semantics, below both services (neither imports the other for it).

* A pattern is a JSON object; every key must match (AND). A key's value is either an object (the event's value is
  an object: match it recursively) or an array of match values (OR), applied to leaf values.
* Arrays in the event are flattened: a field matches when any element matches, and a nested pattern under an array
  of objects is matched against the fields of all its objects together (``{"items": {"sku": ["a"]}}`` matches
  ``{"items": [{"sku": "b"}, {"sku": "a"}]}``).
* Match values: strings, numbers, ``null`` and booleans match equal leaves (``true`` is not ``1``); operators
  ``{"prefix": s | {"equals-ignore-case": s}}``, ``{"suffix": ...}``, ``{"equals-ignore-case": s}``,
  ``{"wildcard": "a*b"}`` (``\\*`` is a literal star), ``{"anything-but": value | [values] | {"prefix"|"suffix"|
  "equals-ignore-case"|"wildcard": ...}}``, ``{"numeric": [op, n, (op, n)]}`` with ``= < <= > >=``,
  ``{"exists": true|false}`` (leaf fields only; a missing field, or one whose value is an object, does not exist),
  ``{"cidr": "10.0.0.0/24"}``; ``"$or": [pattern, ...]`` at any object level.
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from local_runtime.errors import ServiceError

_MISSING = object()


class InvalidEventPatternException(ServiceError, ValueError):
    """The pattern is not a valid EventBridge pattern (EventBridge's error code; events/exceptions.py lists it)."""


def parse_pattern(pattern: str | dict | None) -> dict:
    """A pattern as a dict, checked for the basic shape AWS enforces."""
    if pattern is None or pattern == "":
        return {}
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            raise InvalidEventPatternException("Event pattern is not valid. Reason: Invalid JSON") from None
    if not isinstance(pattern, dict):
        raise InvalidEventPatternException("Event pattern is not valid. Reason: Filter is not an object")
    _check(pattern)
    return pattern


def _check(pattern: dict) -> None:
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(p, dict) for p in value):
                raise InvalidEventPatternException("Event pattern is not valid. Reason: $or must be an array of at least "
                                          "two objects")
            for sub in value:
                _check(sub)
        elif isinstance(value, dict):
            _check(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidEventPatternException("Event pattern is not valid. Reason: Empty arrays are not allowed")
        else:
            raise InvalidEventPatternException(f"Event pattern is not valid. Reason: '{key}' must be an object or an array")


def matches(pattern: str | dict | None, event: Any) -> bool:
    """True when ``event`` (a JSON value) matches ``pattern``; an empty pattern matches everything."""
    return matches_parsed(parse_pattern(pattern), event)


def matches_parsed(pattern: dict, event: Any) -> bool:
    """``matches`` for a pattern that ``parse_pattern`` returned (not checked again: the per-event path)."""
    if not pattern:
        return True
    return _match_object(pattern, [event] if isinstance(event, dict) else [])


def _flatten(value: Any) -> list:
    if isinstance(value, list):
        out: list = []
        for item in value:
            out.extend(_flatten(item))
        return out
    return [value]


def _match_object(pattern: dict, nodes: list[dict]) -> bool:
    for key, rule in pattern.items():
        if key == "$or":
            if not any(_match_object(sub, nodes) for sub in rule):
                return False
            continue
        values: list = []
        for node in nodes:
            if isinstance(node, dict) and key in node:
                values.extend(_flatten(node[key]))
        if isinstance(rule, dict):
            if not _match_object(rule, [v for v in values if isinstance(v, dict)]):
                return False
        elif isinstance(rule, list):
            leaves = [v for v in values if not isinstance(v, dict)]
            if not any(_match_value(item, leaves) for item in rule):
                return False
        else:
            return False
    return True


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    return type(expected) is type(actual) and expected == actual


def _match_value(item: Any, leaves: list) -> bool:
    if not isinstance(item, dict):
        return any(_equal(item, leaf) for leaf in leaves)
    if len(item) != 1:
        raise InvalidEventPatternException(f"Event pattern is not valid. Reason: unsupported match {json.dumps(item)}")
    (operator, argument), = item.items()
    if operator == "exists":
        return bool(leaves) == bool(argument)
    test = _OPERATORS.get(operator)
    if test is None:
        raise InvalidEventPatternException(f"Event pattern is not valid. Reason: Unrecognized match type {operator}")
    return any(test(argument, leaf) for leaf in leaves)


def _string_test(kind: str, argument: Any, leaf: Any) -> bool:
    if not isinstance(leaf, str):
        return False
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        argument, leaf = str(argument["equals-ignore-case"]).lower(), leaf.lower()
    if isinstance(argument, list):
        return any(_string_test(kind, a, leaf) for a in argument)
    if not isinstance(argument, str):
        return False
    if kind == "prefix":
        return leaf.startswith(argument)
    if kind == "suffix":
        return leaf.endswith(argument)
    if kind == "equals-ignore-case":
        return leaf.lower() == argument.lower()
    return _wildcard(argument).fullmatch(leaf) is not None


_WILDCARDS: dict[str, re.Pattern] = {}


def _wildcard(pattern: str) -> re.Pattern:
    compiled = _WILDCARDS.get(pattern)
    if compiled is None:
        parts, i = [], 0
        while i < len(pattern):
            char = pattern[i]
            if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
                parts.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            parts.append(".*" if char == "*" else re.escape(char))
            i += 1
        compiled = _WILDCARDS[pattern] = re.compile("".join(parts), re.DOTALL)
    return compiled


def _anything_but(argument: Any, leaf: Any) -> bool:
    if isinstance(argument, dict):
        (kind, value), = argument.items()
        if kind not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise InvalidEventPatternException(f"Event pattern is not valid. Reason: Unsupported anything-but {kind}")
        return isinstance(leaf, str) and not _string_test(kind, value, leaf)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(value, leaf) for value in excluded)


_NUMERIC_OPS = {
    "=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _numeric(argument: Any, leaf: Any) -> bool:
    if isinstance(leaf, bool) or not isinstance(leaf, (int, float)):
        return False
    if not isinstance(argument, list) or len(argument) % 2:
        raise InvalidEventPatternException("Event pattern is not valid. Reason: numeric needs operator/value pairs")
    for op, bound in zip(argument[::2], argument[1::2]):
        check = _NUMERIC_OPS.get(op)
        if check is None or isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise InvalidEventPatternException(f"Event pattern is not valid. Reason: Unrecognized numeric range operator {op}")
        if not check(float(leaf), float(bound)):
            return False
    return True


def _cidr(argument: Any, leaf: Any) -> bool:
    if not isinstance(leaf, str):
        return False
    try:
        return ipaddress.ip_address(leaf) in ipaddress.ip_network(str(argument), strict=False)
    except ValueError:
        return False


_OPERATORS = {
    "prefix": lambda a, leaf: _string_test("prefix", a, leaf),
    "suffix": lambda a, leaf: _string_test("suffix", a, leaf),
    "equals-ignore-case": lambda a, leaf: _string_test("equals-ignore-case", a, leaf),
    "wildcard": lambda a, leaf: _string_test("wildcard", a, leaf),
    "anything-but": _anything_but,
    "numeric": _numeric,
    "cidr": _cidr,
}
