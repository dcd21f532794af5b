"""Create a resolved stack's data-plane resources in moto, through the AWS-compatible endpoint, with boto3.

CloudFormation property names are mapped to the service APIs' parameters here; nothing else knows about them.
Resource types that have no local data plane (IAM roles, API deployments, permissions) need no creation: their
physical ids exist in the resolved stack for ``Ref``/``GetAtt`` and that is all AWS would give. Log groups are
created with their retention: the functions' and state machines' logs go there (local_runtime/logs/).
"""
from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from local_runtime.template import Resource, Stack, TemplateError

log = logging.getLogger("local_runtime.provision")

_SQS_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


def _sqs_attributes(props: dict) -> dict[str, str]:
    attributes = {}
    for key in _SQS_ATTRIBUTES:
        if key in props:
            value = props[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            value = props[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    return attributes


def create_queue(sqs, resource: Resource) -> None:
    name = resource.attributes["QueueName"]
    url = sqs.create_queue(QueueName=name, Attributes=_sqs_attributes(resource.properties))["QueueUrl"]
    if url != resource.physical_id:
        raise TemplateError(f"{resource.logical_id}: queue URL {url} differs from the resolved {resource.physical_id}")


def create_table(dynamodb, resource: Resource) -> None:
    props = resource.properties
    args: dict[str, Any] = {
        "TableName": resource.physical_id,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if key in props:
            args[key] = props[key]
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    sse = props.get("SSESpecification")
    if sse:
        args["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=resource.physical_id,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


def create_topic(sns, resource: Resource) -> None:
    props = resource.properties
    attributes = {}
    for key in ("KmsMasterKeyId", "DisplayName", "FifoTopic", "ContentBasedDeduplication"):
        if key in props:
            value = props[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    sns.create_topic(Name=resource.attributes["TopicName"], Attributes=attributes)
    for subscription in props.get("Subscription") or []:
        if subscription["Protocol"] == "lambda":
            continue  # delivered by sns.SnsFanout, never by moto (it would invoke moto's Docker Lambda)
        sns.subscribe(
            TopicArn=resource.physical_id, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
        )


def create_subscription(sns, resource: Resource) -> None:
    props = resource.properties
    if props.get("Protocol") == "lambda":
        return  # delivered by sns.SnsFanout, never by moto (it would invoke moto's Docker Lambda)
    attributes = {}
    if props.get("FilterPolicyScope"):
        attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
    for key in ("FilterPolicy", "RedrivePolicy"):
        if key in props:
            attributes[key] = json.dumps(props[key]) if not isinstance(props[key], str) else props[key]
    if props.get("RawMessageDelivery") is not None:
        attributes["RawMessageDelivery"] = str(props["RawMessageDelivery"]).lower()
    sns.subscribe(
        TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"], Attributes=attributes
    )


def create_event_bus(events, resource: Resource) -> None:
    events.create_event_bus(Name=resource.physical_id)


def create_rule(events, resource: Resource) -> None:
    props = resource.properties
    args: dict[str, Any] = {"Name": resource.physical_id, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "ScheduleExpression" in props:
        args["ScheduleExpression"] = props["ScheduleExpression"]
    if "EventBusName" in props:
        args["EventBusName"] = props["EventBusName"].rsplit("/", 1)[-1]
    events.put_rule(**args)
    targets = [
        {k: (json.dumps(v) if k in ("InputTransformer",) and not isinstance(v, dict) else v) for k, v in t.items()}
        for t in props.get("Targets") or []
    ]
    if targets:
        events.put_targets(Rule=resource.physical_id, EventBusName=args.get("EventBusName", "default"), Targets=targets)


def create_alarm(cloudwatch, resource: Resource) -> None:
    props = dict(resource.properties)
    props["AlarmName"] = resource.physical_id
    allowed = {
        "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
        "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
        "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
        "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
    }
    args = {k: v for k, v in props.items() if k in allowed}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in args:
            args[key] = int(args[key])
    if "Threshold" in args:
        args["Threshold"] = float(args["Threshold"])
    cloudwatch.put_metric_alarm(**args)


def create_log_group(logs, resource: Resource) -> None:
    props = resource.properties
    logs.create_log_group(logGroupName=resource.physical_id)
    if props.get("RetentionInDays") is not None:
        logs.put_retention_policy(logGroupName=resource.physical_id, retentionInDays=int(props["RetentionInDays"]))


def provision(stack: Stack, client: Callable[[str], Any]) -> list[str]:
    """Create every data-plane resource of ``stack``; return the logical ids created, in order.

    Dead-letter queues are created before the queues whose ``RedrivePolicy`` names them, as CloudFormation orders
    creation by dependency.
    """
    created: list[str] = []
    queues = stack.of_type("AWS::SQS::Queue")
    queues.sort(key=lambda r: "RedrivePolicy" in r.properties)
    for resource in queues:
        create_queue(client("sqs"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::DynamoDB::Table"):
        create_table(client("dynamodb"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::SNS::Topic"):
        create_topic(client("sns"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::SNS::Subscription"):
        create_subscription(client("sns"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::Events::EventBus"):
        create_event_bus(client("events"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::Events::Rule"):
        create_rule(client("events"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::CloudWatch::Alarm"):
        create_alarm(client("cloudwatch"), resource)
        created.append(resource.logical_id)
    for resource in stack.of_type("AWS::Logs::LogGroup"):
        create_log_group(client("logs"), resource)
        created.append(resource.logical_id)
    return created


def _to_dynamo(value: Any) -> Any:
    """JSON numbers become Decimals, as boto3's resource layer requires."""
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


def load_sample_data(stack: Stack, path: Path, dynamodb_resource) -> dict[str, int]:
    """Load ``{"<name>": [items...]}`` into tables.

    A key names a table by its logical id (``CustomersTable``) or by its short name (``customers`` for
    ``CustomersTable``), so the file never repeats a physical name.
    """
    data = json.loads(Path(path).read_text())
    tables = {r.logical_id: r for r in stack.of_type("AWS::DynamoDB::Table")}
    counts: dict[str, int] = {}
    for key, items in data.items():
        if key.startswith("_"):
            continue  # comments
        resource = tables.get(key) or next(
            (r for lid, r in tables.items() if lid.lower() == f"{key.lower().replace('_', '')}table"), None
        )
        if resource is None:
            raise TemplateError(f"Sample data key {key!r} matches no table of the template")
        table = dynamodb_resource.Table(resource.physical_id)
        with table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=_to_dynamo(item))
        counts[resource.logical_id] = len(items)
        log.info("loaded %d items into %s", len(items), resource.physical_id)
    return counts
