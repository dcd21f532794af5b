"""JSONPaths: InputPath, OutputPath, ItemsPath, ``*Path`` fields, ResultPath (a Reference Path), ``$name``
variables, and the paths inside payload templates (templates.py), Choice rules and intrinsic arguments.

Values are plain JSON (dict, list, str, int, float, bool, None) and are treated as immutable: nothing here
mutates its input. ResultPath copies only the spine it writes through, so an execution can keep references to
earlier values (for its history) without deep copies.

Definite paths (``$``, ``$.a.b``, ``$['a']``, ``$.a[0].b``) are evaluated by a small fast evaluator and give the
value itself, as AWS does (a scalar for ``$.checks[0].p``). Other paths (wildcards, ``..``, filters, slices,
unions) go to jsonpath-ng and give the list of matches.
"""
from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Callable

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as _ng_parse

from .failures import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from .payloads import dumps

_MISSING = object()

# the workflow variables ``$name`` paths read: the running branch's ``variables.Scope`` (anything with ``.values``),
# set by ``Branch.run_program`` (and around a Map's ItemSelector, which may run in another greenlet: each greenlet
# has its own context)
VARIABLES: ContextVar[Any] = ContextVar("sfn_variables", default=None)


class PathSyntaxError(ValueError):
    pass


class PathNotFound(LookupError):
    pass


_NAME = re.compile(r"\.([^.\[\]]+)")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")


def _definite_keys(body: str) -> tuple | None:
    """Keys of a definite path body (what follows ``$``), or None if the path is not definite."""
    keys: list = []
    pos = 0
    while pos < len(body):
        m = _NAME.match(body, pos)
        if m:
            name = m.group(1)
            if name == "*" or name.startswith("*") or "(" in name or "?" in name:
                return None
            keys.append(name)
            pos = m.end()
            continue
        m = _INDEX.match(body, pos)
        if m:
            index = int(m.group(1))
            if index < 0:
                return None
            keys.append(index)
            pos = m.end()
            continue
        m = _QUOTED.match(body, pos)
        if m:
            keys.append(m.group(1) if m.group(1) is not None else m.group(2))
            pos = m.end()
            continue
        return None
    return tuple(keys)


class Path:
    """A compiled JSONPath (``$...``) or context path (``$$...``)."""

    __slots__ = ("text", "context", "keys", "_ng")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.startswith("$"):
            raise PathSyntaxError(f"'{text}' is not a valid JSONPath")
        self.text = text
        self.context = text.startswith("$$")
        body = text[2:] if self.context else text[1:]
        self.keys = _definite_keys(body)
        self._ng = None
        if self.keys is None:
            if body.startswith("$"):
                raise PathSyntaxError(f"'{text}' is not a valid JSONPath")
            try:
                self._ng = _ng_parse("$" + body)
            except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises several types
                raise PathSyntaxError(f"'{text}' is not a valid JSONPath: {exc}") from None

    @property
    def definite(self) -> bool:
        return self.keys is not None

    def find(self, data: Any) -> Any:
        """The value at this path; raises PathNotFound when a definite path does not exist."""
        keys = self.keys
        if keys is not None:
            node = data
            for key in keys:
                if type(key) is int:
                    if type(node) is list and key < len(node):
                        node = node[key]
                        continue
                    raise PathNotFound(self.text)
                if type(node) is dict:
                    node = node.get(key, _MISSING)
                    if node is _MISSING:
                        raise PathNotFound(self.text)
                    continue
                raise PathNotFound(self.text)
            return node
        return [match.value for match in self._ng.find(data)]

    def __repr__(self) -> str:
        return f"Path({self.text!r})"


@lru_cache(maxsize=8192)
def compile_path(text: str) -> Path:
    if isinstance(text, str) and len(text) > 1 and text[0] == "$" and (text[1].isalpha() or text[1] == "_"):
        return VariablePath(text)  # ``$name...``: a workflow variable
    return Path(text)


class VariablePath:
    """A JSONPath whose root is a workflow variable: ``$name`` then an optional definite or indefinite path.

    It reads the variables of the running branch from ``VARIABLES`` (a ``variables.Scope``, which
    ``Branch.run_program`` sets). A variable is never a Reference Path (ResultPath)."""

    __slots__ = ("text", "name", "rest")
    context = False  # never read from $$
    keys = None

    def __init__(self, text: str) -> None:
        end = 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        self.text = text
        self.name = text[1:end]
        rest = text[end:]
        if rest and rest[0] not in ".[":
            raise PathSyntaxError(f"'{text}' is not a valid JSONPath")
        self.rest = compile_path("$" + rest)

    @property
    def definite(self) -> bool:
        return False

    def find(self, data: Any) -> Any:
        scope = VARIABLES.get()
        if scope is None or self.name not in scope.values:
            raise PathNotFound(self.text)
        value = scope.values[self.name]
        return value if self.rest.keys == () else self.rest.find(value)

    def __repr__(self) -> str:
        return f"VariablePath({self.text!r})"


class ReferencePath:
    """A definite path that ResultPath writes to."""

    __slots__ = ("text", "keys")

    def __init__(self, text: str) -> None:
        path = compile_path(text)
        if path.context or not path.definite:
            raise PathSyntaxError(f"'{text}' is not a valid Reference Path")
        self.text = text
        self.keys = path.keys

    def apply(self, data: Any, value: Any) -> Any:
        """Return ``data`` with ``value`` placed at this path (copying only the spine)."""
        if not self.keys:
            return value
        return self._set(data, 0, value)

    def _set(self, node: Any, i: int, value: Any) -> Any:
        key = self.keys[i]
        last = i == len(self.keys) - 1
        if type(key) is int:
            if type(node) is not list or key >= len(node):
                raise self._failure(value)
            copy = list(node)
            copy[key] = value if last else self._set(node[key], i + 1, value)
            return copy
        if type(node) is not dict:
            raise self._failure(value)
        copy = dict(node)
        if last:
            copy[key] = value
        else:
            child = node.get(key, _MISSING)
            if child is _MISSING or child is None:
                child = {}
            copy[key] = self._set(child, i + 1, value)
        return copy

    def _failure(self, value: Any) -> StatesError:
        return StatesError(RESULT_PATH_MATCH_FAILURE, f"Unable to apply step \"{self.text}\" to input {dumps(value)}")


@lru_cache(maxsize=4096)
def compile_reference_path(text: str) -> ReferencePath:
    return ReferencePath(text)


def not_found(path: str, field: str, data: Any) -> StatesError:
    return StatesError(
        RUNTIME, f"The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{dumps(data)}'"
    )


def select(path: Path | None, data: Any, field: str, context: Callable[[], dict]) -> Any:
    """InputPath / OutputPath / ItemsPath semantics: None (JSON null) gives ``{}``."""
    if path is None:
        return {}
    try:
        return path.find(context() if path.context else data)
    except PathNotFound:
        if field in ("InputPath", "OutputPath") and path.keys is not None:
            # AWS words these two as its JSONPath library does: Invalid path '$.a' : No results for path: $['a']
            steps = "".join(f"[{key}]" if type(key) is int else f"['{key}']" for key in path.keys)
            raise StatesError(RUNTIME, f"Invalid path '{path.text}' : No results for path: "
                                       f"{'$$' if path.context else '$'}{steps}") from None
        raise not_found(path.text, field, context() if path.context else data) from None


__all__ = [
    "Path", "VariablePath", "ReferencePath", "PathSyntaxError", "PathNotFound", "VARIABLES", "compile_path",
    "compile_reference_path", "select", "not_found",
]
