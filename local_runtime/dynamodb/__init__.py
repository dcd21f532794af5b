"""Amazon DynamoDB and DynamoDB Streams: moto serves both; ``moto_patches.py`` holds our fixes to it (atomic requests,
cheap transactions and answers, shard iterators that expire). The stream's event source mapping is Lambda's
(awslambda/event_sources/dynamodb_streams.py).
"""
