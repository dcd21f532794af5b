"""AWS SDK integrations take parameters in PascalCase whatever the service API's own casing.

The developer guide: field names of ``arn:aws:states:::aws-sdk:<service>:<action>`` parameters start with a capital
letter even where the API spells them in camelCase (``sfn:sendTaskSuccess`` takes ``TaskToken`` and ``Output``).
``api_parameters`` maps such names onto the operation's input shape (recursively, case-insensitively on the first
letter); names that match nothing are left for botocore to reject.
"""
from __future__ import annotations

from typing import Any


def api_parameters(client: Any, operation: str, params: Any) -> Any:
    try:
        shape = client.meta.service_model.operation_model(operation).input_shape
    except Exception:  # unknown operation: botocore reports it when called
        return params
    return _convert(shape, params)


def _convert(shape: Any, value: Any) -> Any:
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        lookup = {name[:1].lower() + name[1:]: name for name in members}
        out = {}
        for key, item in value.items():
            name = key if key in members else lookup.get(key[:1].lower() + key[1:], key)
            out[name] = _convert(members.get(name), item)
        return out
    if kind == "list" and isinstance(value, list):
        return [_convert(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _convert(shape.value, v) for k, v in value.items()}
    return value
