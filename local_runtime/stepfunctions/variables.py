"""Workflow variables: ``Assign`` and ``$name`` references, in both query languages.

A ``Scope`` holds the variables one thread of control can see. The top-level states of an execution share one
scope; each Parallel branch and each Map iteration starts with a copy of the enclosing scope taken when the
Parallel or Map state starts. Names copied from an outer scope are read-only there: assigning one fails the
execution (``States.Runtime``).

Every reference in a state reads the values the variables had when the state was entered: a state's ``Assign``
is evaluated into a dict (``Branch.assigned``) and committed by the branch after the state's output is known.

In JSONPath states a path that starts with ``$`` and a letter or ``_`` (``$total``, ``$order.lines[0].sku``) reads a
variable. ``compile_path`` (paths.py) returns a ``VariablePath`` for such text, so Parameters, ResultSelector,
ItemSelector, intrinsic arguments, Choice rules, InputPath, OutputPath and ItemsPath take variables as they take
paths; ResultPath does not (a ``VariablePath`` is not a Reference Path). ``VariablePath.find`` reads the scope of
the running branch from the ``paths.VARIABLES`` context variable, which ``Branch.run_program`` sets.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from .failures import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from .paths import PathSyntaxError
from .payloads import dumps
from .templates import Template

MAX_NAME_LENGTH = 80
MAX_VARIABLE_BYTES = 262144  # one variable, serialised
MAX_ASSIGN_BYTES = 262144  # all the values of one Assign field
MAX_TOTAL_BYTES = 10 * 1024 * 1024  # every variable of a scope
RESERVED = "states"


def variable_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a variable name, or None. Names are Unicode identifiers (ID_Start, then
    ID_Continue; ``_`` may start a name, as JSONata allows), at most 80 characters, not ``states``."""
    if not isinstance(name, str) or not name:
        return "A variable name must be a non-empty string"
    if len(name) > MAX_NAME_LENGTH:
        return f"The variable name '{name[:100]}' is longer than {MAX_NAME_LENGTH} characters"
    if name == RESERVED:
        return "The variable name 'states' is reserved"
    if not unicodedata.normalize("NFKC", name).isidentifier():
        return f"The variable name '{name}' is not valid: it must start with a letter or '_' and go on with " \
               f"letters, digits or '_'"
    return None


class Scope:
    """The variables of one thread of control; ``outer`` names came from an enclosing scope (read-only)."""

    __slots__ = ("values", "outer", "sizes")

    def __init__(self, values: dict | None = None, outer: frozenset = frozenset(),
                 sizes: dict | None = None) -> None:
        self.values: dict[str, Any] = values if values is not None else {}
        self.outer = outer
        self.sizes: dict[str, int] = sizes if sizes is not None else {}

    def child(self) -> "Scope":
        """The scope of a Parallel branch or Map iteration: a copy of this one, read-only."""
        return Scope(dict(self.values), frozenset(self.values), dict(self.sizes))

    def commit(self, assigned: dict[str, Any]) -> dict[str, str]:
        """Store the values of one Assign; returns them serialised, for the StateExited event."""
        texts: dict[str, str] = {}
        total_assign = 0
        for name, value in assigned.items():
            if name in self.outer:
                raise StatesError(RUNTIME, f"The variable '{name}' belongs to an outer scope: a Parallel branch or a "
                                           f"Map iteration cannot assign it")
            text = dumps(value)
            size = len(text.encode())
            if size > MAX_VARIABLE_BYTES:
                raise StatesError(DATA_LIMIT_EXCEEDED, f"The value assigned to the variable '{name}' has {size} bytes, "
                                                       f"more than the {MAX_VARIABLE_BYTES} bytes limit")
            total_assign += size
            texts[name] = text
        if total_assign > MAX_ASSIGN_BYTES:
            raise StatesError(DATA_LIMIT_EXCEEDED, f"The values of the Assign field have {total_assign} bytes, more "
                                                   f"than the {MAX_ASSIGN_BYTES} bytes limit")
        sizes = dict(self.sizes)
        for name, text in texts.items():
            sizes[name] = len(text.encode())
        total = sum(sizes.values())
        if total > MAX_TOTAL_BYTES:
            raise StatesError(DATA_LIMIT_EXCEEDED, f"The variables have {total} bytes, more than the {MAX_TOTAL_BYTES} "
                                                   f"bytes limit")
        self.values.update(assigned)
        self.sizes = sizes
        return texts


class JsonPathAssign:
    """The Assign field of a JSONPath state: a payload template (``"x.$": "$.a"``, ``"y.$": "$var"``, intrinsics)
    whose top-level keys, without ``.$``, name variables."""

    __slots__ = ("template",)

    def __init__(self, spec: dict) -> None:
        self.template = Template(spec)

    def resolve(self, data: Any, context) -> dict:
        return self.template.resolve(data, context)


def jsonpath_assign(spec: dict) -> JsonPathAssign | None:
    value = spec.get("Assign")
    return JsonPathAssign(value) if isinstance(value, dict) else None


def assign_problems(value: Any, where: str, jsonpath: bool) -> list[tuple[str, str, str]]:
    """(code, message, location) for a bad Assign field."""
    if not isinstance(value, dict):
        return [("SCHEMA_VALIDATION_FAILED", "The field 'Assign' must be an object", where)]
    out = []
    for key in value:
        name = key[:-2] if jsonpath and isinstance(key, str) and key.endswith(".$") else key
        problem = variable_name_problem(name)
        if problem is not None:
            out.append(("SCHEMA_VALIDATION_FAILED", problem, f"{where}/{key}"))
    if jsonpath and not out:
        try:
            Template(value)
        except PathSyntaxError as exc:
            out.append(("SCHEMA_VALIDATION_FAILED", str(exc), where))
    return out


__all__ = ["Scope", "JsonPathAssign", "jsonpath_assign", "assign_problems",
           "variable_name_problem", "MAX_VARIABLE_BYTES", "MAX_ASSIGN_BYTES", "MAX_TOTAL_BYTES"]
