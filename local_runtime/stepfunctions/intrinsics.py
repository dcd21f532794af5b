"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath payload templates (templates.py).

A call string is parsed once into a tree of ``Call`` nodes whose arguments are literals, paths or nested calls;
evaluation failures raise ``States.IntrinsicFailure``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import uuid
from typing import Any, Callable

from .failures import INTRINSIC_FAILURE, StatesError
from .paths import Path, PathNotFound, PathSyntaxError, compile_path
from .payloads import dumps


class IntrinsicSyntaxError(ValueError):
    pass


class Literal:
    """A constant: an intrinsic's literal argument, or a constant part of a payload template (templates.py) or of a
    JSONata template (jsonata_expressions.py)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, data: Any, context: Any) -> Any:
        """The value, whatever it is evaluated against (JSONPath: data and context; JSONata: env and field)."""
        return self.value


class _PathArg:
    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def evaluate(self, data: Any, context: Callable[[], dict]) -> Any:
        try:
            return self.path.find(context() if self.path.context else data)
        except PathNotFound:
            source = context() if self.path.context else data
            raise StatesError(INTRINSIC_FAILURE,
                              f"The JsonPath argument '{self.path.text}' could not be found in the input "
                              f"'{dumps(source)}'") from None


class Call:
    __slots__ = ("name", "args", "text", "_fn")

    def __init__(self, name: str, args: list, text: str) -> None:
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise IntrinsicSyntaxError(f"Unsupported intrinsic function: {name}")
        self.name = name
        self.args = args
        self.text = text
        self._fn = fn

    def evaluate(self, data: Any, context: Callable[[], dict]) -> Any:
        values = [arg.evaluate(data, context) for arg in self.args]
        low, high = _ARITY.get(self.name, (0, None))
        if len(values) < low or (high is not None and len(values) > high):
            expected = str(low) if high == low else f"{low} to {high}" if high is not None else f"at least {low}"
            raise StatesError(INTRINSIC_FAILURE, f"Invalid number of arguments in {self.name}: expected {expected}, "
                                                 f"got {len(values)}")
        try:
            return self._fn(*values)
        except StatesError:
            raise
        except _Fail as exc:
            raise StatesError(INTRINSIC_FAILURE, f"Invalid arguments in {self.name}: {exc}") from None


class _Fail(Exception):
    pass


# --- tokenizer / parser ----------------------------------------------------------------------------------------


def parse_intrinsic(text: str) -> Call:
    parser = _Parser(text)
    call = parser.call()
    parser.skip_ws()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"Unexpected text at {parser.pos} in {text!r}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        self.skip_ws()
        if self.peek() != char:
            raise IntrinsicSyntaxError(f"Expected {char!r} at {self.pos} in {self.text!r}")
        self.pos += 1

    def call(self) -> Call:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "._"):
            self.pos += 1
        name = self.text[start:self.pos]
        if not name.startswith("States."):
            raise IntrinsicSyntaxError(f"Expected an intrinsic function at {start} in {self.text!r}")
        self.expect("(")
        args: list = []
        self.skip_ws()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.argument())
                self.skip_ws()
                char = self.peek()
                self.pos += 1
                if char == ")":
                    break
                if char != ",":
                    raise IntrinsicSyntaxError(f"Expected ',' or ')' at {self.pos - 1} in {self.text!r}")
        return Call(name, args, self.text[start:self.pos])

    def argument(self):
        self.skip_ws()
        char = self.peek()
        if char == "'":
            return Literal(self.string())
        if char == "$":
            return self.path()
        if char == "S" and self.text.startswith("States.", self.pos):
            return self.call()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",)" and not self.text[self.pos].isspace():
            self.pos += 1
        token = self.text[start:self.pos]
        if token in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[token])
        try:
            number = json.loads(token)
        except ValueError:
            raise IntrinsicSyntaxError(f"Invalid argument {token!r} in {self.text!r}") from None
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            raise IntrinsicSyntaxError(f"Invalid argument {token!r} in {self.text!r}")
        return Literal(number)

    def string(self) -> str:
        self.pos += 1  # opening quote
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                if self.pos + 1 >= len(self.text):
                    break
                nxt = self.text[self.pos + 1]
                # \' \{ \} \\ are the escapes the spec defines; keep the backslash for {} so Format sees them
                out.append("\\" + nxt if nxt in "{}" else nxt)
                self.pos += 2
                continue
            if char == "'":
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise IntrinsicSyntaxError(f"Unterminated string in {self.text!r}")

    def path(self):
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and depth:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            elif char.isspace() and depth == 0:
                break
            self.pos += 1
        text = self.text[start:self.pos]
        try:
            return _PathArg(compile_path(text))
        except PathSyntaxError as exc:
            raise IntrinsicSyntaxError(str(exc)) from None


# --- the functions ---------------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _format(template: Any, *args: Any) -> str:
    if not isinstance(template, str):
        raise _Fail("the first argument must be a string")
    out: list[str] = []
    i = 0
    used = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and i + 1 < len(template) and template[i + 1] in "{}\\":
            out.append(template[i + 1])
            i += 2
            continue
        if char == "{" and template.startswith("{}", i):
            if used >= len(args):
                raise _Fail("the number of arguments does not match the number of placeholders")
            value = args[used]
            used += 1
            out.append(value if isinstance(value, str) else _java_text(value))
            i += 2
            continue
        out.append(char)
        i += 1
    if used != len(args):
        raise _Fail("the number of arguments does not match the number of placeholders")
    return "".join(out)


def _java_text(value: Any) -> str:
    """A non-string argument of States.Format as AWS renders it (Java's toString of the parsed value): an object as
    ``{Arg1=1, Arg2=[]}``, an array as ``[1, 2]``, nested strings without quotes, numbers, booleans and null as in
    JSON (AWS-recorded: ``$$.StateMachine`` gives ``{Id=arn:..., Name=...}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_java_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    return dumps(value)


def _string_to_json(value: Any) -> Any:
    if not isinstance(value, str):
        raise _Fail("the argument must be a string")
    if not value.strip():
        return None  # AWS-recorded: States.StringToJson('') is null
    try:
        return json.loads(value)
    except ValueError:
        raise _Fail("the argument is not a valid JSON text") from None


def _json_to_string(value: Any) -> str:
    return dumps(value)


def _array(*values: Any) -> list:
    return list(values)


def _array_partition(array: Any, size: Any) -> list:
    if not isinstance(array, list):
        raise _Fail("the first argument must be an array")
    if not _is_int(size) or size <= 0:
        raise _Fail("the chunk size must be a positive integer")
    size = int(size)
    return [array[i:i + size] for i in range(0, len(array), size)]


def _array_contains(array: Any, value: Any) -> bool:
    if not isinstance(array, list):
        raise _Fail("the first argument must be an array")
    return any(_json_equal(item, value) for item in array)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _array_range(start: Any, end: Any, step: Any) -> list:
    if not (_is_int(start) and _is_int(end) and _is_int(step)):
        raise _Fail("the arguments must be integers")
    start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise _Fail("the step must not be zero")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise _Fail("the result has more than 1000 items")
    return values


def _array_get_item(array: Any, index: Any) -> Any:
    if not isinstance(array, list):
        raise _Fail("the first argument must be an array")
    if not _is_int(index) or not 0 <= int(index) < len(array):
        raise _Fail(f"the index {index} is out of bounds")
    return array[int(index)]


def _array_length(array: Any) -> int:
    if not isinstance(array, list):
        raise _Fail("the argument must be an array")
    return len(array)


def _array_unique(array: Any) -> list:
    if not isinstance(array, list):
        raise _Fail("the argument must be an array")
    seen: set[str] = set()
    out = []
    for item in array:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _base64_encode(value: Any) -> str:
    if not isinstance(value, str):
        raise _Fail("the argument must be a string")
    if len(value) > 10000:
        raise _Fail("the input exceeds 10000 characters")
    return base64.b64encode(value.encode()).decode()


def _base64_decode(value: Any) -> str:
    if not isinstance(value, str):
        raise _Fail("the argument must be a string")
    if len(value) > 10000:
        raise _Fail("the input exceeds 10000 characters")
    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise _Fail("the argument is not a valid base64 text") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(value: Any, algorithm: Any) -> str:
    name = _HASHES.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _Fail(f"the hash algorithm must be one of {', '.join(_HASHES)}")
    if value is None:
        raise _Fail("the data must not be null")
    text = value if isinstance(value, str) else dumps(value)
    if len(text) > 10000:
        raise _Fail("the input exceeds 10000 characters")
    return hashlib.new(name, text.encode()).hexdigest()


def _json_merge(left: Any, right: Any, deep: Any) -> dict:
    if not isinstance(left, dict) or not isinstance(right, dict):
        raise _Fail("the first two arguments must be objects")
    if deep is not False:
        raise _Fail("only a shallow merge (false) is supported")
    merged = dict(left)
    merged.update(right)
    return merged


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    if not (_is_int(start) and _is_int(end)):
        raise _Fail("start and end must be integers")
    start, end = int(start), int(end)
    if end <= start:
        raise _Fail("end must be greater than start")
    rng = random.Random(seed) if seed is not None else random
    return rng.randrange(start, end)


def _java_round(value: Any) -> int:
    """Java's Math.round: half up towards positive infinity (0.5 -> 1, -0.5 -> 0, -1.5 -> -1)."""
    return math.floor(value + 0.5)


def _math_add(a: Any, b: Any) -> int:
    if not (_is_number(a) and _is_number(b)):
        raise _Fail("the arguments must be numbers")
    # AWS-recorded: each argument is rounded to an integer first (1.49 + 1.5 -> 3, -1.5 + -1.51 -> -3)
    return _java_round(a) + _java_round(b)


def _string_split(value: Any, delimiters: Any) -> list:
    if not isinstance(value, str) or not isinstance(delimiters, str):
        raise _Fail("the arguments must be strings")
    parts: list[str] = []
    current: list[str] = []
    for char in value:
        if char in delimiters:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return parts


def _uuid() -> str:
    return str(uuid.uuid4())


# (fewest, most) arguments of each function; None: no limit
_ARITY: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None), "States.StringToJson": (1, 1), "States.JsonToString": (1, 1), "States.Array": (0, None),
    "States.ArrayPartition": (2, 2), "States.ArrayContains": (2, 2), "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2), "States.ArrayLength": (1, 1), "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1), "States.Base64Decode": (1, 1), "States.Hash": (2, 2), "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3), "States.MathAdd": (2, 2), "States.StringSplit": (2, 2), "States.UUID": (0, 0),
}

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
