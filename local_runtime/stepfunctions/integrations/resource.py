"""What a Task's ``Resource`` names: the ARN read into its parts, before a component is chosen for it (factory.py).

* a Lambda function ARN (``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]``);
* an optimized integration ``arn:aws:states:::<service>:<action>[.sync|.sync:2|.waitForTaskToken]``;
* an AWS SDK integration ``arn:aws:states:::aws-sdk:<service>:<action>[.waitForTaskToken]``;
* an activity ``arn:aws:states:<region>:<account>:activity:<name>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# integration patterns (the suffix of the action)
REQUEST_RESPONSE, CALLBACK, SYNC, SYNC2 = "", "waitForTaskToken", "sync", "sync:2"

_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:([\w-]+):([\w-]+):function:([\w-]+)(?::([\w$-]+))?$")
_STATES_ARN = re.compile(r"^arn:aws[\w-]*:states:::([\w-]+(?::[\w-]+)?):([\w]+)(?:\.(sync(?::2)?|waitForTaskToken))?$")
_ACTIVITY_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]+:\d{12}:activity:[\w-]+$")


class UnknownResource(ValueError):
    """A Resource no component serves: CreateStateMachine answers it as SCHEMA_VALIDATION_FAILED at the field."""

    def __init__(self, arn: Any) -> None:
        super().__init__(f"The resource provided {arn} is not recognized. The value is not a valid resource ARN, or "
                         f"the resource is not available in this region.")


@dataclass(frozen=True, slots=True)
class Resource:
    arn: str
    kind: str            # "lambda-function" | "optimized" | "aws-sdk" | "activity"
    service: str         # "lambda", "dynamodb", ... (aws-sdk: the SDK service name)
    action: str          # "invoke", "putItem", ... (Lambda ARN: the function name)
    pattern: str = REQUEST_RESPONSE

    @property
    def callback(self) -> bool:
        return self.pattern == CALLBACK

    @property
    def resource_type(self) -> str:
        """``resourceType`` of TaskScheduled events."""
        return f"aws-sdk:{self.service}" if self.kind == "aws-sdk" else self.service

    @property
    def resource_name(self) -> str:
        """``resource`` of TaskScheduled events."""
        return f"{self.action}.{self.pattern}" if self.pattern else self.action


def parse_resource(arn: Any) -> Resource:
    """The parts of a Resource ARN; raises UnknownResource when it is no ARN a Task can name."""
    if not isinstance(arn, str):
        raise UnknownResource(arn)
    match = _LAMBDA_ARN.match(arn)
    if match:
        return Resource(arn, "lambda-function", "lambda", match.group(3))
    match = _STATES_ARN.match(arn)
    if match:
        service, action, pattern = match.group(1), match.group(2), match.group(3) or REQUEST_RESPONSE
        if service.startswith("aws-sdk:"):
            return Resource(arn, "aws-sdk", service.split(":", 1)[1], action, pattern)
        if ":" in service:
            raise UnknownResource(arn)
        return Resource(arn, "optimized", service, action, pattern)
    if _ACTIVITY_ARN.match(arn):
        return Resource(arn, "activity", "activity", arn.rsplit(":", 1)[1])
    raise UnknownResource(arn)


def function_name(value: str) -> str:
    """A Lambda FunctionName (name, name:qualifier, partial or full ARN) reduced to the bare name."""
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else value
    parts = value.split(":")
    if len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name[:qualifier]
        return parts[2]
    return parts[0]


__all__ = ["Resource", "UnknownResource", "parse_resource", "function_name", "REQUEST_RESPONSE", "CALLBACK", "SYNC",
           "SYNC2"]
