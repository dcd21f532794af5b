"""Query languages at definition time: ``QueryLanguage``, the fields each language allows, JSONata syntax, Assign.

``JSONPath`` (the default) or ``JSONata``, at the top level and on any state; a state inherits it from the top
level, and the states of a Parallel branch or Map item processor from the Parallel or Map state. A JSONata scope
cannot hold a JSONPath state. ``field_problems`` lists what CreateStateMachine rejects (``SCHEMA_VALIDATION_FAILED``
at the field): fields of the other language, JSONata syntax errors, bad variable names.
"""
from __future__ import annotations

from typing import Any

from .jsonata_expressions import JsonataSyntaxError, compile_template, is_expression
from .timefmt import parse_timestamp
from .variables import assign_problems

JSONPATH, JSONATA = "JSONPath", "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

# fields a JSONata state cannot have, and the reverse
JSONPATH_ONLY = ("InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath", "SecondsPath",
                 "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
                 "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath")
JSONATA_ONLY = ("Arguments", "Output", "Items")
_JSONPATH_RULE_FIELDS = ("Variable", "And", "Or", "Not")


def state_language(spec: dict, inherited: str, where: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The state's query language and the problems of its QueryLanguage field."""
    value = spec.get("QueryLanguage", inherited)
    if value not in QUERY_LANGUAGES:
        return inherited, [("SCHEMA_VALIDATION_FAILED", "The field 'QueryLanguage' should have one of these values: "
                                                        "[JSONPath, JSONata]", f"{where}/QueryLanguage")]
    if inherited == JSONATA and value == JSONPATH:
        return JSONATA, [("SCHEMA_VALIDATION_FAILED", "A JSONPath state cannot be nested in a JSONata scope",
                          f"{where}/QueryLanguage")]
    return value, []


def field_problems(spec: dict, state_type: str, language: str, where: str) -> list[tuple[str, str, str]]:
    """Fields of the other query language, bad expressions and bad variable names."""
    out: list[tuple[str, str, str]] = []
    jsonata_mode = language == JSONATA
    banned = JSONPATH_ONLY if jsonata_mode else JSONATA_ONLY
    for field in banned:
        if field in spec:
            out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the QueryLanguage is "
                                                    f"{language}", f"{where}/{field}"))
    if "Assign" in spec:
        out += assign_problems(spec["Assign"], f"{where}/Assign", jsonpath=not jsonata_mode)
    for i, catcher in enumerate(spec.get("Catch") or ()):
        if not isinstance(catcher, dict):
            continue
        for field in (("ResultPath",) if jsonata_mode else ("Output",)):
            if field in catcher:
                out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the QueryLanguage "
                                                        f"is {language}", f"{where}/Catch[{i}]/{field}"))
        if "Assign" in catcher:
            out += assign_problems(catcher["Assign"], f"{where}/Catch[{i}]/Assign", jsonpath=not jsonata_mode)
    if state_type == "Choice":
        for i, rule in enumerate(spec.get("Choices") or ()):
            if not isinstance(rule, dict):
                continue
            rule_where = f"{where}/Choices[{i}]"
            if jsonata_mode:
                for field in _JSONPATH_RULE_FIELDS:
                    if field in rule:
                        out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the "
                                                                f"QueryLanguage is JSONata", f"{rule_where}/{field}"))
                if "Condition" not in rule:
                    out.append(("SCHEMA_VALIDATION_FAILED", "These fields are required: [Condition]", rule_where))
            else:
                for field in ("Condition", "Output"):
                    if field in rule:
                        out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' is not supported when the "
                                                                f"QueryLanguage is JSONPath", f"{rule_where}/{field}"))
            if "Assign" in rule:
                out += assign_problems(rule["Assign"], f"{rule_where}/Assign", jsonpath=not jsonata_mode)
    if jsonata_mode:
        out += _expression_problems(spec, state_type, where)
    return out


_EXPRESSION_FIELDS = ("Arguments", "Output", "Assign", "Items", "ItemSelector")
_NUMBER_FIELDS = {"Seconds": "Wait", "TimeoutSeconds": "Task", "HeartbeatSeconds": "Task",
                  "MaxConcurrency": "Map", "ToleratedFailureCount": "Map", "ToleratedFailurePercentage": "Map"}


def _expression_problems(spec: dict, state_type: str, where: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []

    def check(value: Any, field_where: str) -> None:
        try:
            compile_template(value)
        except JsonataSyntaxError as exc:
            out.append(("SCHEMA_VALIDATION_FAILED", str(exc), field_where))

    for field in _EXPRESSION_FIELDS:
        if field in spec:
            check(spec[field], f"{where}/{field}")
    for field, owner in _NUMBER_FIELDS.items():
        value = spec.get(field)
        if value is None or state_type != owner:
            continue
        if isinstance(value, str):
            if is_expression(value):
                check(value, f"{where}/{field}")
            else:
                out.append(("SCHEMA_VALIDATION_FAILED", f"The field '{field}' must be a number or a JSONata "
                                                        f"expression", f"{where}/{field}"))
    if state_type == "Wait" and isinstance(spec.get("Timestamp"), str):
        value = spec["Timestamp"]
        if is_expression(value):
            check(value, f"{where}/Timestamp")
        elif parse_timestamp(value) is None:
            out.append(("SCHEMA_VALIDATION_FAILED", "The value for the field 'Timestamp' must be a valid ISO-8601 "
                                                    "timestamp or a JSONata expression", f"{where}/Timestamp"))
    if state_type == "Fail":
        for field in ("Error", "Cause"):
            if is_expression(spec.get(field)):
                check(spec[field], f"{where}/{field}")
    for i, catcher in enumerate(spec.get("Catch") or ()):
        if isinstance(catcher, dict):
            for field in ("Output", "Assign"):
                if field in catcher:
                    check(catcher[field], f"{where}/Catch[{i}]/{field}")
    if state_type == "Choice":
        for i, rule in enumerate(spec.get("Choices") or ()):
            if isinstance(rule, dict):
                for field in ("Condition", "Output", "Assign"):
                    if field in rule:
                        check(rule[field], f"{where}/Choices[{i}]/{field}")
                condition = rule.get("Condition")
                if "Condition" in rule and not is_expression(condition) and not isinstance(condition, bool):
                    out.append(("SCHEMA_VALIDATION_FAILED", "The field 'Condition' must be a boolean or a JSONata "
                                                            "expression", f"{where}/Choices[{i}]/Condition"))
    return out



__all__ = ["JSONPATH", "JSONATA", "QUERY_LANGUAGES", "state_language", "field_problems"]
