"""Task integrations: one component per kind of Task resource, chosen when the definition is parsed.

Modules: resource (the Resource ARN's parts), ports (``Integrations``: Lambda, AWS clients, child executions),
base (``TaskComponent``: patterns, history events), aws (boto3 calls, the optimized base), awslambda, dynamodb,
sqs, sns, events, sfn (``states:startExecution``), sdk (``aws-sdk:*``), unsupported (activities, other services),
factory (``task_component(arn)``). Components call the world only through ``Integrations``; none imports another
but through base and aws.
"""
from .base import TaskComponent
from .factory import task_component
from .ports import Integrations
from .resource import Resource, UnknownResource, function_name, parse_resource

__all__ = ["Integrations", "TaskComponent", "task_component", "Resource", "UnknownResource", "function_name",
           "parse_resource"]
