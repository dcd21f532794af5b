"""Amazon DynamoDB, optimized: ``arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem`` (request and
response only, as AWS offers it)."""
from __future__ import annotations

from .aws import OptimizedIntegration
from .resource import REQUEST_RESPONSE


class DynamoDB(OptimizedIntegration):
    client_name, error_prefix, service_id = "dynamodb", "DynamoDB", "AmazonDynamoDBv2"
    operations = {"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}
    patterns = frozenset({REQUEST_RESPONSE})
    __slots__ = ()
