"""JSONPath input and output processing: InputPath, Parameters, ResultSelector, ResultPath, OutputPath.

Values are plain JSON (dict, list, str, int, float, bool, None) and are treated as immutable: nothing here
mutates its input. ResultPath copies only the spine it writes through, so an execution can keep references to
earlier values (for its history) without deep copies.

Definite paths (``$``, ``$.a.b``, ``$['a']``, ``$.a[0].b``) are evaluated by a small fast evaluator and give the
value itself, as AWS does (a scalar for ``$.checks[0].p``). Other paths (wildcards, ``..``, filters, slices,
unions) go to jsonpath-ng and give the list of matches.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as _ng_parse

from .failures import INTRINSIC_FAILURE, RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from .payloads import dumps

_MISSING = object()


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
        from .variables import VariablePath  # ``$name...``: a workflow variable (variables.py)
        return VariablePath(text)
    return Path(text)


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


# --- payload templates (Parameters, ResultSelector, ItemSelector) ----------------------------------------------


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return self.value


class _PathRef:
    __slots__ = ("path", "field")

    def __init__(self, path: Path, field: str) -> None:
        self.path = path
        self.field = field

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        source = context() if self.path.context else data
        try:
            return self.path.find(source)
        except PathNotFound:
            raise not_found(self.path.text, self.field, source) from None


class _Intrinsic:
    __slots__ = ("call", "field")

    def __init__(self, call: Any, field: str) -> None:
        self.call = call
        self.field = field

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return self.call.evaluate(data, context)


class _Object:
    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return {key: node.resolve(data, context) for key, node in self.items}


class _Array:
    __slots__ = ("nodes",)

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return [node.resolve(data, context) for node in self.nodes]


class Template:
    """A compiled payload template: keys ending in ``.$`` take a path, a context path or an intrinsic call."""

    __slots__ = ("root", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        self.root = _compile_node(source)

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return self.root.resolve(data, context)


def _compile_node(value: Any):
    from .intrinsics import IntrinsicSyntaxError, parse_intrinsic

    if isinstance(value, dict):
        items = []
        dynamic = False
        for key, child in value.items():
            if key.endswith(".$"):
                name = key[:-2]
                if not isinstance(child, str):
                    raise PathSyntaxError(f"The value for the field '{key}' must be a STRING that contains a JSONPath")
                if child.startswith("$"):
                    node = _PathRef(compile_path(child), key)
                elif child.startswith("States."):
                    try:
                        node = _Intrinsic(parse_intrinsic(child), key)
                    except IntrinsicSyntaxError as exc:
                        raise PathSyntaxError(f"The value for the field '{key}' must be a valid JSONPath or a valid "
                                              f"intrinsic function call: {exc}") from None
                else:
                    raise PathSyntaxError(f"The value for the field '{key}' must be a valid JSONPath or a valid "
                                          f"intrinsic function call")
                items.append((name, node))
                dynamic = True
            else:
                node = _compile_node(child)
                dynamic = dynamic or not isinstance(node, _Const)
                items.append((key, node))
        if not dynamic:
            return _Const(value)
        return _Object(items)
    if isinstance(value, list):
        nodes = [_compile_node(child) for child in value]
        if all(isinstance(node, _Const) for node in nodes):
            return _Const(value)
        return _Array(nodes)
    return _Const(value)


__all__ = [
    "Path", "ReferencePath", "Template", "PathSyntaxError", "PathNotFound", "compile_path", "compile_reference_path",
    "select", "not_found", "INTRINSIC_FAILURE",
]
