"""Amazon SQS, optimized: ``arn:aws:states:::sqs:sendMessage[.waitForTaskToken]``; a JSON ``MessageBody`` is sent as
its compact text."""
from __future__ import annotations

from .aws import OptimizedIntegration


class SqsSendMessage(OptimizedIntegration):
    client_name, error_prefix, service_id, text_member = "sqs", "SQS", "AmazonSQS", "MessageBody"
    operations = {"sendMessage": "SendMessage"}
    __slots__ = ()
