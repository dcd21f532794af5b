"""ValidateStateMachineDefinition's answer: every diagnostic of a definition, errors then warnings.

Errors are the parser's (parser.py ``parse_problems``) and the checks it leaves to validation.py (``more_problems``:
structure, statelint); warnings are the ones AWS documents (validation.py ``warnings``). Results are cached per
definition hash (SHA-256 of the text).
"""
from __future__ import annotations

import json
import re

from .parser import parse_problems
from .validation import ERROR, WARNING, Diagnostic, HashCache, definition_hash, more_problems, warnings

_cache = HashCache(1024)


def diagnose(text: str) -> tuple[Diagnostic, ...]:
    """Every diagnostic of a definition (errors, then warnings), cached per definition hash."""
    key = definition_hash(text)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    out = _diagnose(text)
    _cache.put(key, out)
    return out


def _diagnose(text: str) -> tuple[Diagnostic, ...]:
    if not text.strip():
        return (Diagnostic(ERROR, "MISSING_DESCRIPTION", "The definition is empty"),)
    try:
        document = json.loads(text)
    except ValueError as exc:
        return (Diagnostic(ERROR, "INVALID_JSON_DESCRIPTION", str(exc)),)
    if not isinstance(document, dict):
        return (Diagnostic(ERROR, "SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", "/"),)
    errors = [_from_problem(item) for item in parse_problems(document)]
    errors += [Diagnostic(ERROR, code, message, where)
               for code, message, where in more_problems(document, text, lint=not errors)]
    return tuple(_unique(errors)) + tuple(_unique(warnings(document)))


def _from_problem(item: str) -> Diagnostic:
    code, _, rest = item.partition(": ")
    if not re.fullmatch(r"[A-Z_]+", code):
        return Diagnostic(ERROR, "SCHEMA_VALIDATION_FAILED", item)
    message, sep, where = rest.rpartition(" at ")
    if not sep or not where.startswith("/"):
        return Diagnostic(ERROR, code, rest)
    return Diagnostic(ERROR, code, message, where)


def _unique(items: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(items))


def validate_response(text: str, severity: str = ERROR, max_results: int = 100) -> dict:
    """The ValidateStateMachineDefinition response body."""
    diagnostics = [d for d in diagnose(text) if severity == WARNING or d.severity == ERROR]
    result = "FAIL" if any(d.severity == ERROR for d in diagnostics) else "OK"
    out = {"result": result, "diagnostics": [d.to_json() for d in diagnostics[:max_results]]}
    out["truncated"] = len(diagnostics) > max_results
    return out


__all__ = ["ERROR", "WARNING", "diagnose", "validate_response"]
