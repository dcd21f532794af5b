"""JSONPath payload templates: Parameters, ResultSelector, ItemSelector, ItemReader/ResultWriter Parameters, Assign.

A template is compiled once into a tree: a key ending in ``.$`` takes a path, a context path (``$$...``), a variable
(``$name``) or an intrinsic function call, and loses its ``.$``; every other value is a literal. A subtree without
any of them is kept as one constant, so resolving it costs nothing. Nodes evaluate as ``node.evaluate(data,
context)``, like intrinsic calls (intrinsics.py), which sit in the tree as they are.
"""
from __future__ import annotations

from typing import Any, Callable

from .intrinsics import IntrinsicSyntaxError, Literal, parse_intrinsic
from .paths import Path, PathNotFound, PathSyntaxError, compile_path, not_found


class _PathRef:
    __slots__ = ("path", "field")

    def __init__(self, path: Path, field: str) -> None:
        self.path = path
        self.field = field

    def evaluate(self, data: Any, context: Callable[[], dict]) -> Any:
        source = context() if self.path.context else data
        try:
            return self.path.find(source)
        except PathNotFound:
            raise not_found(self.path.text, self.field, source) from None


class _Object:
    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items

    def evaluate(self, data: Any, context: Callable[[], dict]) -> Any:
        return {key: node.evaluate(data, context) for key, node in self.items}


class _Array:
    __slots__ = ("nodes",)

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes

    def evaluate(self, data: Any, context: Callable[[], dict]) -> Any:
        return [node.evaluate(data, context) for node in self.nodes]


class Template:
    """A compiled payload template; raises PathSyntaxError for a bad ``.$`` value."""

    __slots__ = ("root", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        self.root = _compile(source)

    def resolve(self, data: Any, context: Callable[[], dict]) -> Any:
        return self.root.evaluate(data, context)


def _dynamic(key: str, text: Any):
    """The node of a ``"key.$": text`` entry: a path or an intrinsic function call."""
    if not isinstance(text, str):
        raise PathSyntaxError(f"The value for the field '{key}' must be a STRING that contains a JSONPath")
    if text.startswith("$"):
        return _PathRef(compile_path(text), key)
    if text.startswith("States."):
        try:
            return parse_intrinsic(text)
        except IntrinsicSyntaxError as exc:
            raise PathSyntaxError(f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic "
                                  f"function call: {exc}") from None
    raise PathSyntaxError(f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function "
                          f"call")


def _compile(value: Any):
    if isinstance(value, dict):
        items = [(key[:-2], _dynamic(key, child)) if key.endswith(".$") else (key, _compile(child))
                 for key, child in value.items()]
        node = _Object(items)
        children = [child for _, child in items]
    elif isinstance(value, list):
        node = _Array([_compile(child) for child in value])
        children = node.nodes
    else:
        return Literal(value)
    return node if any(type(child) is not Literal for child in children) else Literal(value)


__all__ = ["Template"]
