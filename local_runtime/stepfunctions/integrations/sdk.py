"""AWS SDK integrations: ``arn:aws:states:::aws-sdk:<service>:<action>[.waitForTaskToken]``, any boto3 operation.

Parameters are PascalCase whatever the service API's own casing, as the developer guide says (``sfn:sendTaskSuccess``
takes ``TaskToken`` and ``Output``): ``api_parameters`` maps such names onto the operation's input shape
(recursively, case-insensitively on the first letter); names that match nothing are left for botocore to reject.
The result is the response as JSON (no ``ResponseMetadata``); a service error is ``<Service>.<Code>Exception``, the
service name capitalised (``Dynamodb.ResourceNotFoundException``).
"""
from __future__ import annotations

from typing import Any

from .aws import aws_call, to_json
from .base import TaskComponent
from .ports import Integrations
from .resource import CALLBACK, REQUEST_RESPONSE

# aws-sdk service names that boto3 spells differently
_CLIENT_NAMES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}


class AwsSdk(TaskComponent):
    patterns = frozenset({REQUEST_RESPONSE, CALLBACK})
    __slots__ = ()

    def response_operation(self) -> tuple[str, str] | None:
        service = self.resource.service
        return _CLIENT_NAMES.get(service, service), self.resource.action[0].upper() + self.resource.action[1:]

    def request(self, integrations: Integrations, params: dict) -> dict:
        service, operation = self.response_operation()
        prefix = self.resource.service[0].upper() + self.resource.service[1:]
        params = api_parameters(integrations.client(service), operation, params)
        return to_json(aws_call(integrations, service, operation, params, prefix, prefix))


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


__all__ = ["AwsSdk", "api_parameters"]
