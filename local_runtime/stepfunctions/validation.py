"""Definition checks beyond the parser's, and the ValidateStateMachineDefinition API's diagnostics.

The parser (parser.py) checks transitions, reachability, paths, intrinsics, Retry/Catch ``ErrorEquals`` and
builds the program. This module adds what it does not look at:

* statelint 3.1.0 (unknown fields, field types, enums), its paths turned into AWS locations (``/States/X/Field``);
* ``Retry``/``Catch`` on states that cannot have them (only Task, Parallel and Map can);
* state names: longer than 80 characters, control characters, the same name twice anywhere in the machine
  (nested branches included) or twice in one ``States`` object of the JSON text;
* a scope without a terminal state (``MISSING_END_STATE``);
* warnings AWS documents for ValidateStateMachineDefinition: ``NO_DOLLAR``, ``NO_PATH``,
  ``PASS_RESULT_IS_STATIC`` (``warnings``; diagnostics.py answers the API).

Results are cached per definition hash (SHA-256 of the text), so creating the same definition again costs a dict
lookup. This module never imports the parser: the parser calls ``more_problems``.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from statelint.config import Config as _LintConfig
from statelint.linter import Linter as _Linter
from statelint.problem import ProblemType as _ProblemType

ERROR, WARNING = "ERROR", "WARNING"

# statelint false positives: ${...} placeholders substituted later, integer BackoffRate
_LINT_CONFIG = _LintConfig({_ProblemType.URI, _ProblemType.FLOAT})
_RECOVERABLE = {"Task", "Parallel", "Map"}
_TERMINAL = {"Succeed", "Fail"}
_MAX_NAME = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINT_PATH = re.compile(r"State Machine((?:\.[^\s\"'.]+)*)")
_PATH_LIKE = re.compile(r"^\$(\$)?(\.|\[|$)")
_INTRINSIC_LIKE = re.compile(r"^States\.[A-Za-z]+\(")
# fields whose "<field>Path" twin takes a path: a path in the plain field is a NO_PATH warning
_PATH_TWINS = {"Error", "Cause", "Seconds", "Timestamp", "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency",
               "ToleratedFailureCount", "ToleratedFailurePercentage"}
_CACHE_SIZE = 1024
_VARIABLE_OR_JSONATA = re.compile(r' is "(\$[^\W\d]|\{%)')
_AWS_ACCEPTS = re.compile(r'^Field "ProcessorConfig" not allowed in State Machine\S*\.Iterator$'
                          r'|^State Machine\S*\.(ErrorPath|CausePath|ItemsPath) is "\$\$'
                          r"|^State Machine\S*\.Condition is (true|false) but should be a String$"
                          r"|^State Machine\S*\.ReaderConfig\.MaxItems is 0 but allowed floor is 0$")
_READER_CONFIG_FIELD = re.compile(r'^Field "(InputType|CSVHeaderLocation|CSVHeaders|CSVDelimiter)" not allowed in '
                                  r'State Machine\S*\.ItemReader\.ReaderConfig$')


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str
    code: str
    message: str
    location: str | None = None

    def to_json(self) -> dict:
        out = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location:
            out["location"] = self.location
        return out

    def text(self) -> str:
        """The form used inside InvalidDefinition messages: ``CODE: message at /location``."""
        return f"{self.code}: {self.message} at {self.location}" if self.location else f"{self.code}: {self.message}"


class HashCache:
    """A small thread-safe LRU keyed by the definition's SHA-256."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, tuple] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: str) -> tuple | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: str, value: tuple) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_extra_cache = HashCache(_CACHE_SIZE)


def definition_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- called by the parser ---------------------------------------------------------------------------------------

def more_problems(document: dict, text: str, lint: bool = True) -> list[tuple[str, str, str]]:
    """(code, message, location) of the errors the parser does not find. ``lint`` is False when the parser's own
    checks failed: statelint would repeat them, and a broken transition often explains a missing end state."""
    key = definition_hash(text) + (":lint" if lint else "")
    cached = _extra_cache.get(key)
    if cached is None:
        found = [(d.code, d.message, d.location or "/") for d in _structure(document, text)
                 if lint or d.code != "MISSING_END_STATE"]  # a broken transition often is the missing end
        if lint and not found:
            found = [(d.code, d.message, d.location or "/") for d in _statelint(document)]
        cached = tuple(found)
        _extra_cache.put(key, cached)
    return list(cached)


# -- statelint --------------------------------------------------------------------------------------------------

def _statelint(document: dict) -> list[Diagnostic]:
    out = []
    for problem in _Linter.validate(document, _LINT_CONFIG):
        # JSONPath-mode Variables ($var, Assign) are valid ASL that statelint 3.1.0 does not know
        if "$var" in problem or "Assign" in problem:
            continue
        # statelint rejects valid JSONPath such as $['a b'] and filters $.l[?(@.n > 1)]; the parser compiles
        # every ".$" value itself and reports the ones that are not a path or an intrinsic call
        if "is not a JSONPath or intrinsic function expression" in problem:
            continue
        # a variable ("$total") where statelint wants a path, a JSONata "{% %}" where it wants a number or a
        # timestamp: language.py and variables.py check these fields
        if _VARIABLE_OR_JSONATA.search(problem):
            continue
        # statelint 3.1.0 knows only MaxItems in ReaderConfig; distributed_map.py checks the documented others
        if _READER_CONFIG_FIELD.search(problem):
            continue
        # definitions AWS accepts and statelint 3.1.0 does not (AWS-recorded): a legacy Iterator carrying a
        # ProcessorConfig, an ErrorPath/CausePath that is a context path, a JSONata Choice Condition given as a
        # constant boolean
        if _AWS_ACCEPTS.search(problem):
            continue
        out.append(_lint_diagnostic(problem))
    return out


def _lint_diagnostic(problem: str) -> Diagnostic:
    match = _LINT_PATH.search(problem)
    if match is None:
        return Diagnostic(ERROR, "SCHEMA_VALIDATION_FAILED", problem)
    location = "/" + "/".join(match.group(1).split(".")[1:]) if match.group(1) else "/"
    message = problem[:match.start()] + location + problem[match.end():]
    if message.endswith(" in " + location):
        message = message[:-len(" in " + location)]
    elif message.startswith(location + " "):
        field = location.rsplit("/", 1)[-1]
        message = f"The field '{field}'" + message[len(location):]
    return Diagnostic(ERROR, "SCHEMA_VALIDATION_FAILED", message, location)


# -- structure: state names, Retry/Catch placement, terminal states ----------------------------------------------

def _structure(document: dict, text: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out += _duplicate_keys(text)
    names: dict[str, str] = {}
    _walk_structure(document, "", names, out)
    return out


def _duplicate_keys(text: str) -> list[Diagnostic]:
    """The same state name twice in one ``States`` object (json.loads would keep only the last)."""
    found: list[Diagnostic] = []

    def hook(pairs: list) -> dict:
        keys = [k for k, _ in pairs]
        if "Type" not in keys:  # a States object maps names to state objects
            seen = set()
            for key, value in pairs:
                if key in seen and isinstance(value, dict) and "Type" in value:
                    found.append(Diagnostic(ERROR, "DUPLICATE_STATE_NAME", f"Duplicate State name: {key}",
                                            f"/States/{key}"))
                seen.add(key)
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=hook)
    except ValueError:
        return []
    return found


def _walk_structure(doc: Any, where: str, names: dict[str, str], out: list[Diagnostic]) -> None:
    if not isinstance(doc, dict) or not isinstance(doc.get("States"), dict):
        return
    states = doc["States"]
    has_terminal = False
    for name, spec in states.items():
        state_where = f"{where}/States/{name}"
        if len(name) > _MAX_NAME or not name or _CONTROL.search(name):
            out.append(Diagnostic(ERROR, "INVALID_STATE_NAME", f"State name \"{name[:100]}\" must be 1 to "
                                  f"{_MAX_NAME} characters without control characters", state_where))
        if name in names:
            out.append(Diagnostic(ERROR, "DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", state_where))
        else:
            names[name] = state_where
        if not isinstance(spec, dict):
            continue
        state_type = spec.get("Type")
        if state_type in _TERMINAL or spec.get("End") is True:
            has_terminal = True
        if isinstance(state_type, str) and state_type not in _RECOVERABLE:
            for field in ("Retry", "Catch"):
                if field in spec:
                    out.append(Diagnostic(ERROR, "SCHEMA_VALIDATION_FAILED",
                                          f"Field '{field}' is not supported by {state_type} states",
                                          f"{state_where}/{field}"))
        if state_type == "Parallel" and isinstance(spec.get("Branches"), list):
            for i, branch in enumerate(spec["Branches"]):
                _walk_structure(branch, f"{state_where}/Branches[{i}]", names, out)
        elif state_type == "Map":
            field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
            _walk_structure(spec.get(field), f"{state_where}/{field}", names, out)
    if states and not has_terminal:
        out.append(Diagnostic(ERROR, "MISSING_END_STATE", "The workflow does not have a terminal state",
                              f"{where}/States" if where else "/States"))


# -- warnings ---------------------------------------------------------------------------------------------------

def _looks_dynamic(value: Any) -> bool:
    return isinstance(value, str) and bool(_PATH_LIKE.match(value) or _INTRINSIC_LIKE.match(value))


def warnings(doc: Any, where: str = "") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("States"), dict):
        return out
    if doc.get("QueryLanguage") == "JSONata":
        return out
    for name, spec in doc["States"].items():
        state_where = f"{where}/States/{name}"
        if not isinstance(spec, dict) or spec.get("QueryLanguage") == "JSONata":
            continue
        for field in ("Parameters", "ResultSelector", "ItemSelector"):
            if field in spec:
                _no_dollar(spec[field], f"{state_where}/{field}", out)
        for field in _PATH_TWINS:
            if field in spec and isinstance(spec[field], str) and _PATH_LIKE.match(spec[field]):
                out.append(Diagnostic(WARNING, "NO_PATH", f"The value of '{field}' looks like a path; did you mean "
                                      f"'{field}Path'?", f"{state_where}/{field}"))
        if spec.get("Type") == "Pass" and "Result" in spec and _has_dynamic(spec["Result"]):
            out.append(Diagnostic(WARNING, "PASS_RESULT_IS_STATIC", "The Result of a Pass state is used as is; paths "
                                  "and intrinsic functions in it are not evaluated (use Parameters)",
                                  f"{state_where}/Result"))
        if spec.get("Type") == "Parallel" and isinstance(spec.get("Branches"), list):
            for i, branch in enumerate(spec["Branches"]):
                out += warnings(branch, f"{state_where}/Branches[{i}]")
        elif spec.get("Type") == "Map":
            field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
            out += warnings(spec.get(field), f"{state_where}/{field}")
    return out


def _no_dollar(template: Any, where: str, out: list[Diagnostic]) -> None:
    if isinstance(template, dict):
        for key, value in template.items():
            if isinstance(key, str) and not key.endswith(".$") and _looks_dynamic(value):
                out.append(Diagnostic(WARNING, "NO_DOLLAR", f"The value of '{key}' looks like a JSONPath or an "
                                      f"intrinsic function; a field that takes one must end in '.$'",
                                      f"{where}/{key}"))
            elif not (isinstance(key, str) and key.endswith(".$")):
                _no_dollar(value, f"{where}/{key}", out)
    elif isinstance(template, list):
        for i, value in enumerate(template):
            _no_dollar(value, f"{where}[{i}]", out)


def _has_dynamic(value: Any) -> bool:
    if isinstance(value, dict):
        return any((isinstance(k, str) and k.endswith(".$")) or _has_dynamic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_dynamic(v) for v in value)
    return _looks_dynamic(value)
