"""Deliver one payload to one target ARN, as EventBridge (rules, Pipes) and SNS do on AWS.

* Lambda function: an asynchronous invoke (``InvocationType=Event``) of our worker processes;
* Step Functions state machine: StartExecution with the payload as input (STANDARD or EXPRESS);
* SQS queue: SendMessage (``MessageGroupId`` for FIFO queues from ``SqsParameters``);
* SNS topic: Publish through the endpoint, so Lambda subscribers get it too (local_runtime/sns/);
* EventBridge bus: PutEvents of the same event on that bus (models.py);
* CloudWatch Logs log group: one log event in a new stream.

Any other ARN raises ``UnsupportedTarget``. Errors of the target service propagate to the caller, which logs them.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Callable

from local_runtime.awslambda.interface import Invoke

logger = logging.getLogger(__name__)


class UnsupportedTarget(ValueError):
    pass


class TargetDelivery:
    def __init__(self, client: Callable[[str], Any], invoke: Invoke | None = None,
                 stepfunctions: Any = None, eventbridge: Any = None) -> None:
        self.client = client
        self.invoke = invoke
        self.stepfunctions = stepfunctions
        self.eventbridge = eventbridge
        self._queue_urls: dict[str, str] = {}

    def deliver(self, arn: str, payload: str, event: dict | None = None, sqs_parameters: dict | None = None) -> Any:
        parts = arn.split(":")
        service = parts[2] if len(parts) > 5 else ""
        if service == "lambda":
            if self.invoke is None:
                raise UnsupportedTarget("no Lambda runtime")
            return self.invoke(arn, payload.encode(), invocation_type="Event")
        if service == "states" and ":stateMachine:" in arn:
            if self.stepfunctions is None:
                raise UnsupportedTarget("no Step Functions runtime")
            return self.stepfunctions.handle("StartExecution", {"stateMachineArn": arn, "input": payload})
        if service == "sqs":
            args: dict[str, Any] = {"QueueUrl": self._queue_url(arn), "MessageBody": payload}
            group = (sqs_parameters or {}).get("MessageGroupId")
            if group:
                args["MessageGroupId"] = group
                if event is not None:
                    args["MessageDeduplicationId"] = str(event.get("id") or uuid.uuid4())
            return self.client("sqs").send_message(**args)
        if service == "sns":
            return self.client("sns").publish(TopicArn=arn, Message=payload)
        if service == "events" and parts[5].startswith("event-bus/"):
            if self.eventbridge is None or event is None:
                raise UnsupportedTarget("no EventBridge bus")
            return self.eventbridge.forward(event, parts[5].split("/", 1)[1])
        if service == "logs" and parts[5] == "log-group":
            group = parts[6]
            logs = self.client("logs")
            stream = str(uuid.uuid4())
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            return logs.put_log_events(logGroupName=group, logStreamName=stream,
                                       logEvents=[{"timestamp": int(time.time() * 1000), "message": payload}])
        raise UnsupportedTarget(f"target {arn} is not supported locally")

    def _queue_url(self, arn: str) -> str:
        url = self._queue_urls.get(arn)
        if url is None:
            parts = arn.split(":")
            url = self.client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            self._queue_urls[arn] = url
        return url


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
