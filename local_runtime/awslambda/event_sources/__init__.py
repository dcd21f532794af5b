"""Lambda event source mappings: our pollers read a queue or a stream and invoke a function with batches, as the
Lambda service does on AWS (moto never owns a mapping).

* ``sqs.py``: :class:`SqsEventSource`, an SQS queue;
* ``dynamodb_streams.py``: :class:`DynamoDbStreamSource`, a DynamoDB table's stream.
"""
