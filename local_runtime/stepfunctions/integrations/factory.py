"""The component of a Task's Resource, chosen when the definition is parsed (so a bad Resource fails at
CreateStateMachine, as ``SCHEMA_VALIDATION_FAILED`` at ``/States/<name>/Resource``).

* a Lambda function ARN: ``LambdaFunction``; ``aws-sdk:<service>:<action>``: ``AwsSdk``;
* an optimized integration of a service served here: its component, if it has the action (AWS's optimized
  integrations: DynamoDB GetItem/PutItem/UpdateItem/DeleteItem, SQS SendMessage, SNS Publish, EventBridge PutEvents,
  Lambda Invoke, Step Functions StartExecution);
* activities and other services' optimized integrations: ``Unsupported`` (accepted; they fail when run).

The pattern (``.sync``, ``.sync:2``, ``.waitForTaskToken``) must be one AWS offers for the component (the developer
guide's table of optimized integrations: DynamoDB request/response only; Lambda, SQS, SNS, EventBridge and the SDK
also ``.waitForTaskToken``; Step Functions all three).
"""
from __future__ import annotations

from typing import Any

from .awslambda import LambdaFunction, LambdaInvoke
from .base import TaskComponent
from .dynamodb import DynamoDB
from .events import EventBridgePutEvents
from .resource import UnknownResource, parse_resource
from .sdk import AwsSdk
from .sfn import StartExecution
from .sns import SnsPublish
from .sqs import SqsSendMessage
from .unsupported import Unsupported

_OPTIMIZED: dict[str, type[TaskComponent]] = {
    "lambda": LambdaInvoke, "dynamodb": DynamoDB, "sqs": SqsSendMessage, "sns": SnsPublish,
    "events": EventBridgePutEvents, "states": StartExecution,
}
_BY_KIND: dict[str, type[TaskComponent]] = {"lambda-function": LambdaFunction, "aws-sdk": AwsSdk,
                                            "activity": Unsupported}


def task_component(arn: Any) -> TaskComponent:
    """The component serving the Resource ``arn``; raises UnknownResource when none does."""
    resource = parse_resource(arn)
    if resource.kind == "optimized":
        component = _OPTIMIZED.get(resource.service, Unsupported)
        if component is not Unsupported and resource.action not in component.operations:
            raise UnknownResource(arn)
    else:
        component = _BY_KIND[resource.kind]
    if resource.pattern not in component.patterns:
        raise UnknownResource(arn)
    return component(resource)


__all__ = ["task_component"]
