"""Definition -> ``Program``: parse and validate once per distinct definition (cached).

Validation = our checks (AWS-style codes: MISSING_TRANSITION_TARGET, UNREACHABLE_STATE, SCHEMA_VALIDATION_FAILED)
followed by statelint's (unknown fields, types, enums). Messages follow AWS's InvalidDefinition format:
``Invalid State Machine Definition: 'CODE: message at /States/X/Next'``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .. import errors
from .choice import ChoiceRuleError, compile_rule
from .distributed_map import definition_problems
from .failures import ALL
from .integrations import UnknownResource, task_component
from .jsonata_states import JSONATA_STATES
from .language import JSONATA, JSONPATH, field_problems, state_language
from .paths import PathSyntaxError, compile_path, compile_reference_path
from .states import JSONPATH_STATES, STATE_TYPES, Program
from .timefmt import parse_timestamp
from .validation import more_problems

_TERMINAL_TYPES = {"Choice", "Succeed", "Fail"}
# the state classes of each query language: ``cls(name, spec, *parts)``, the parts being what _state_parts parsed
_STATE_CLASSES = {JSONPATH: JSONPATH_STATES, JSONATA: JSONATA_STATES}


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, code: str, message: str, where: str) -> None:
        self.items.append(f"{code}: {message} at {where}")


def parse_definition(definition: str | dict) -> Program:
    """Parse and validate; raises ``errors.InvalidDefinition``. Cached per definition text."""
    if isinstance(definition, dict):
        definition = json.dumps(definition)
    return _parse_cached(definition)


@lru_cache(maxsize=512)
def _parse_cached(text: str) -> Program:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise errors.InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'") from None
    if not isinstance(document, dict):
        raise errors.InvalidDefinition("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The definition "
                                       "must be a JSON object at /'")
    problems = _Problems()
    program = _parse_program(document, "", problems)
    # statelint and the checks it misses (validation.py, cached per definition hash); statelint only repeats
    # what our checks found, so it runs when they found nothing
    for code, message, where in more_problems(document, text, lint=not problems.items):
        problems.add(code, message, where)
    if problems.items:
        raise errors.InvalidDefinition("Invalid State Machine Definition: '" + ", ".join(problems.items) + "'")
    return program


def parse_problems(document: dict) -> list[str]:
    """The parser's problems of a definition's JSON document (``CODE: message at /where``); never raises."""
    problems = _Problems()
    try:
        _parse_program(document, "", problems)
    except Exception:  # a parser crash on odd input is still a definition problem (no Python text in the answer)
        problems.items.append("SCHEMA_VALIDATION_FAILED: The definition could not be read")
    return problems.items


def _parse_program(doc: Any, where: str, problems: _Problems, language: str | None = None) -> Program | None:
    """``language``: the query language the states inherit (None: the top level, which sets its own)."""
    if not isinstance(doc, dict):
        problems.add("SCHEMA_VALIDATION_FAILED", "Expected an object", where or "/")
        return None
    states_doc = doc.get("States")
    start_at = doc.get("StartAt")
    if not isinstance(states_doc, dict) or not states_doc:
        problems.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [States]", where or "/")
        return None
    if not isinstance(start_at, str):
        problems.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [StartAt]", where or "/")
        return None
    if start_at not in states_doc:
        problems.add("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start_at}", f"{where}/StartAt")
    timeout = doc.get("TimeoutSeconds")
    if language is None:
        language = doc.get("QueryLanguage", JSONPATH)
        if language not in (JSONPATH, JSONATA):
            problems.add("SCHEMA_VALIDATION_FAILED", "The field 'QueryLanguage' should have one of these values: "
                         "[JSONPath, JSONata]", f"{where}/QueryLanguage")
            language = JSONPATH
    states: dict = {}
    targets: dict[str, list[str]] = {}
    for name, spec in states_doc.items():
        state_where = f"{where}/States/{name}"
        state = _parse_state(name, spec, state_where, problems, states_doc, targets, language)
        if state is not None:
            states[name] = state
    # reachability from StartAt
    if start_at in states_doc:
        seen = {start_at}
        stack = [start_at]
        while stack:
            for target in targets.get(stack.pop(), ()):
                if target in states_doc and target not in seen:
                    seen.add(target)
                    stack.append(target)
        for name in states_doc:
            if name not in seen:
                problems.add("UNREACHABLE_STATE", f"State \"{name}\" is not reachable.", f"{where}/States/{name}")
    return Program(start_at, states, timeout, doc.get("Comment"), language)


def _check_target(target: Any, field_where: str, problems: _Problems, states_doc: dict, out: list[str]) -> None:
    if not isinstance(target, str) or target not in states_doc:
        problems.add("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", field_where)
    else:
        out.append(target)


def _check_error_equals(entries: Any, field: str, where: str, problems: _Problems) -> bool:
    if entries is None:
        return True
    if not isinstance(entries, list):
        problems.add("SCHEMA_VALIDATION_FAILED", f"The field '{field}' must be an array", f"{where}/{field}")
        return False
    ok = True
    for i, entry in enumerate(entries):
        names = entry.get("ErrorEquals") if isinstance(entry, dict) else None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            problems.add("SCHEMA_VALIDATION_FAILED", "ErrorEquals must be a non-empty array of strings",
                         f"{where}/{field}[{i}]/ErrorEquals")
            ok = False
            continue
        if ALL in names and (len(names) != 1 or i != len(entries) - 1):
            problems.add("SCHEMA_VALIDATION_FAILED",
                         "States.ALL must appear alone in ErrorEquals and in the last catcher"
                         if field == "Catch" else
                         "States.ALL must appear alone in ErrorEquals and in the last retrier",
                         f"{where}/{field}[{i}]/ErrorEquals")
            ok = False
    return ok


def _check_paths(spec: dict, where: str, problems: _Problems) -> bool:
    ok = True
    for field in ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
                  "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath"):
        value = spec.get(field)
        if value is None:
            continue
        if field in ("ErrorPath", "CausePath") and isinstance(value, str) and value.startswith("States."):
            continue  # an intrinsic function call (AWS Fail state docs); the Fail state compiles and checks it
        try:
            compile_path(value)
        except (PathSyntaxError, TypeError):
            problems.add("SCHEMA_VALIDATION_FAILED", f"The value for the field '{field}' must be a valid JSONPath",
                         f"{where}/{field}")
            ok = False
    return _check_result_path(spec, where, problems) and ok


def _check_result_path(spec: dict, where: str, problems: _Problems) -> bool:
    if spec.get("ResultPath") is None:
        return True
    try:
        compile_reference_path(spec["ResultPath"])
    except (PathSyntaxError, TypeError):
        problems.add("SCHEMA_VALIDATION_FAILED", "The value for the field 'ResultPath' must be a valid "
                     "Reference Path", f"{where}/ResultPath")
        return False
    return True


def _parse_state(name: str, spec: Any, where: str, problems: _Problems, states_doc: dict,
                 targets: dict[str, list[str]], inherited: str = JSONPATH):
    if not isinstance(spec, dict):
        problems.add("SCHEMA_VALIDATION_FAILED", "A state must be an object", where)
        return None
    state_type = spec.get("Type")
    if state_type not in STATE_TYPES:
        problems.add("SCHEMA_VALIDATION_FAILED", f"The field 'Type' should have one of these values: "
                     f"{sorted(STATE_TYPES)}", f"{where}/Type")
        return None
    out = targets.setdefault(name, [])
    if state_type not in _TERMINAL_TYPES:
        has_next, has_end = "Next" in spec, spec.get("End") is True
        if has_next:
            _check_target(spec["Next"], f"{where}/Next", problems, states_doc, out)
        if has_next == has_end:
            problems.add("SCHEMA_VALIDATION_FAILED", "Exactly one of these fields is required: [Next, End]"
                         if not has_next else "Next and End cannot both be set", where)
    else:
        for field in ("Next", "End"):
            if field in spec:
                problems.add("SCHEMA_VALIDATION_FAILED", f"Field '{field}' is not supported by {state_type} states",
                             f"{where}/{field}")
    # query language (language.py): fields of the other language, JSONata syntax, Assign variable names
    language, found = state_language(spec, inherited, where)
    found += field_problems(spec, state_type, language, where)
    for code, message, field_where in found:
        problems.add(code, message, field_where)
    ok = _check_paths(spec, where, problems) and not found
    ok = _check_error_equals(spec.get("Retry"), "Retry", where, problems) and ok
    ok = _check_error_equals(spec.get("Catch"), "Catch", where, problems) and ok
    for i, catcher in enumerate(spec.get("Catch") or ()):
        if isinstance(catcher, dict):
            _check_target(catcher.get("Next"), f"{where}/Catch[{i}]/Next", problems, states_doc, out)
            ok = _check_result_path(catcher, f"{where}/Catch[{i}]", problems) and ok
    if not ok:
        return None
    try:
        parts = _state_parts(state_type, spec, where, problems, states_doc, out, language)
        if parts is None:
            return None
        return _STATE_CLASSES[language][state_type](name, spec, *parts)
    except PathSyntaxError as exc:
        problems.add("SCHEMA_VALIDATION_FAILED", str(exc), where)
    return None


def _state_parts(state_type: str, spec: dict, where: str, problems: _Problems, states_doc: dict,
                 out: list[str], language: str) -> tuple | None:
    """What a state class takes beyond its name and definition (a Task's component, a Parallel's branches, a Map's
    item processor, a Choice's rules); None when the state has a problem (added to ``problems``)."""
    if state_type == "Wait":
        fields = [f for f in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if f in spec]
        if len(fields) != 1:
            problems.add("SCHEMA_VALIDATION_FAILED", "Exactly one of these fields is required: [Seconds, "
                         "SecondsPath, Timestamp, TimestampPath]", where)
            return None
        if "Timestamp" in spec and language != JSONATA and parse_timestamp(spec["Timestamp"]) is None:
            # AWS's wording (AWS-recorded); a "{% %}" expression is no timestamp in a JSONPath state either
            problems.add("SCHEMA_VALIDATION_FAILED", "String does not match RFC3339 timestamp", f"{where}/Timestamp")
            return None
    elif state_type == "Choice":
        choices = _parse_choice(spec, where, problems, states_doc, out, language)
        return None if choices is None else (choices,)
    elif state_type == "Task":
        try:
            return (task_component(spec.get("Resource")),)
        except UnknownResource as exc:
            problems.add("SCHEMA_VALIDATION_FAILED", str(exc), f"{where}/Resource")
            return None
    elif state_type == "Parallel":
        branches = []
        for i, branch in enumerate(spec.get("Branches") or ()):
            program = _parse_program(branch, f"{where}/Branches[{i}]", problems, language)
            if program is None:
                return None
            branches.append(program)
        if not branches:
            problems.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Branches]", where)
            return None
        return (branches,)
    elif state_type == "Map":
        distributed = definition_problems(spec, where, language)  # ItemReader/ItemBatcher/ResultWriter
        for code, message, field_where in distributed:
            problems.add(code, message, field_where)
        if distributed:
            return None
        field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
        if field not in spec:
            problems.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [ItemProcessor]", where)
            return None
        processor = _parse_program(spec[field], f"{where}/{field}", problems, language)
        return None if processor is None else (processor,)
    return ()


def _parse_choice(spec: dict, where: str, problems: _Problems, states_doc: dict, out: list[str],
                  language: str = JSONPATH) -> list | None:
    """The compiled rules, ``(predicate, next)`` each (JSONata: None each, the state compiles its Conditions)."""
    choices = spec.get("Choices")
    if not isinstance(choices, list) or not choices:
        problems.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Choices]", where)
        return None
    compiled = []
    for i, rule in enumerate(choices):
        rule_where = f"{where}/Choices[{i}]"
        if not isinstance(rule, dict):
            problems.add("SCHEMA_VALIDATION_FAILED", "A Choice rule must be an object", rule_where)
            continue
        if "Next" not in rule:
            problems.add("MISSING_TRANSITION_TARGET", "A Choice rule needs a 'Next'", f"{rule_where}/Next")
            continue
        _check_target(rule["Next"], f"{rule_where}/Next", problems, states_doc, out)
        if language == JSONATA:  # a Condition expression (checked by field_problems)
            compiled.append(None)
            continue
        body = {k: v for k, v in rule.items() if k not in ("Next", "Comment", "Assign")}
        try:
            compiled.append((compile_rule(body), rule["Next"]))
        except (ChoiceRuleError, PathSyntaxError, TypeError, AttributeError) as exc:
            problems.add("SCHEMA_VALIDATION_FAILED", str(exc), rule_where)
    if "Default" in spec:
        _check_target(spec["Default"], f"{where}/Default", problems, states_doc, out)
    if len(compiled) != len(choices):
        return None
    return compiled
