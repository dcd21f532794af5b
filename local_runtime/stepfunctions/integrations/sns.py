"""Amazon SNS, optimized: ``arn:aws:states:::sns:publish[.waitForTaskToken]``; a JSON ``Message`` is published as its
compact text."""
from __future__ import annotations

from .aws import OptimizedIntegration


class SnsPublish(OptimizedIntegration):
    client_name, error_prefix, service_id, text_member = "sns", "SNS", "AmazonSNS", "Message"
    operations = {"publish": "Publish"}
    __slots__ = ()
