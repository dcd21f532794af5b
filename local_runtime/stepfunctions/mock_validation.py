"""TestState's ``mock.fieldValidationMode``: a mocked Task result checked against the API's response model.

* STRICT (the default): every required member is present and every known member has the model's type;
* PRESENT: only the members present are checked;
* NONE: nothing is checked.

Members the model does not know are ignored in every mode, as AWS documents. Models come from botocore (the
response shape of the operation the Task's component calls: integrations/ ``response_operation``); ``lambda:invoke``
has Step Functions' own shape (``Payload`` is JSON, not a blob: ``response_members``). Resources without a known
model are not checked.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .integrations import UnknownResource, task_component


@lru_cache(maxsize=64)
def _output_shape(service: str, operation: str):
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
        return model.operation_model(operation).output_shape
    except Exception:  # unknown service or operation: nothing to check against
        return None


def check_mock_result(resource_arn: Any, result: Any, mode: str) -> str | None:
    """A description of the first mismatch, or None."""
    if mode == "NONE":
        return None
    try:
        component = task_component(resource_arn)
    except UnknownResource:
        return None
    if component.response_members is not None:
        if not isinstance(result, dict):
            return "the result must be a JSON object"
        for key, kind in component.response_members.items():
            if key in result and not _is(result[key], kind):
                return f"'{key}' must be {kind_name(kind)}"
        return None
    target = component.response_operation()
    shape = _output_shape(*target) if target else None
    if shape is None:
        return None
    return _check(result, shape, mode == "STRICT", "$")


def kind_name(kind: str) -> str:
    return {"structure": "an object", "map": "an object", "list": "an array", "string": "a string",
            "integer": "an integer", "long": "an integer", "float": "a number", "double": "a number",
            "boolean": "a boolean", "timestamp": "a timestamp", "blob": "a string"}.get(kind, kind)


def _is(value: Any, kind: str) -> bool:
    if kind in ("structure", "map"):
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "timestamp":
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    return True


def _check(value: Any, shape, strict: bool, where: str) -> str | None:
    kind = shape.type_name
    if not _is(value, kind):
        return f"{where} must be {kind_name(kind)}"
    if kind == "structure":
        if strict:
            for name in shape.required_members:
                if name not in value:
                    return f"{where}.{name} is required"
        for name, member in shape.members.items():
            if name in value:
                problem = _check(value[name], member, strict, f"{where}.{name}")
                if problem:
                    return problem
    elif kind == "list":
        for i, item in enumerate(value):
            problem = _check(item, shape.member, strict, f"{where}[{i}]")
            if problem:
                return problem
    elif kind == "map":
        for key, item in value.items():
            problem = _check(item, shape.value, strict, f"{where}.{key}")
            if problem:
                return problem
    return None
