"""DynamoDB stream event source mapping against moto's streams behind our gateway, with a fake invoke callable."""
from __future__ import annotations

import json

import uuid

import boto3
import pytest

from local_runtime.gateway import Gateway, Server
from local_runtime.awslambda.event_sources.dynamodb_streams import DynamoDbStreamSource

REGION = "us-east-1"


@pytest.fixture(scope="module")
def endpoint():
    """moto behind our gateway, as the runtime serves it (streams are reached through the endpoint)."""
    server = Server(Gateway(), "127.0.0.1", 0, "test-streams").start()
    yield server.url
    server.stop()


@pytest.fixture
def clients(endpoint):
    def client(service):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    dynamodb = client("dynamodb")
    table = f"customers-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    yield dynamodb, client("dynamodbstreams"), table
    dynamodb.delete_table(TableName=table)


class Consumer:
    """Fails (function error) every batch that holds a record whose id is in ``bad``."""

    def __init__(self, bad=()):
        self.bad = set(bad)
        self.batches: list[list[str]] = []

    def __call__(self, function, event):
        ids = [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]]
        self.batches.append(ids)
        if self.bad & set(ids):
            return json.dumps({"errorType": "Boom", "errorMessage": "bad record"}).encode(), "Unhandled"
        return b"null", None


def source(clients, consumer, failures=None, **mapping):
    dynamodb, streams, table = clients
    props = {"EventSourceArn": f"arn:aws:dynamodb:{REGION}:123456789012:table/{table}/stream/1970-01-01T00:00:00.000",
             "FunctionName": "fn",
             "StartingPosition": "TRIM_HORIZON", **mapping}
    on_failure = (lambda arn, body: failures.append((arn, json.loads(body)))) if failures is not None else None
    src = DynamoDbStreamSource(props, dynamodb, streams, consumer, on_failure=on_failure, poll_seconds=0)
    src.open()
    return src


def put(clients, *ids):
    for item_id in ids:
        clients[0].put_item(TableName=clients[2], Item={"id": {"S": item_id}, "kind": {"S": item_id[:1]}})


def drain(src, cycles=20):
    for _ in range(cycles):
        src.poll_once()


def test_latest_skips_records_written_before_the_mapping_and_trim_horizon_reads_them(clients):
    put(clients, "old")
    latest = Consumer()
    from_start = Consumer()
    src_latest = source(clients, latest, StartingPosition="LATEST")
    src_start = source(clients, from_start)
    put(clients, "new")
    drain(src_latest, 2)
    drain(src_start, 2)
    assert latest.batches == [["new"]]
    assert from_start.batches == [["old", "new"]]


def test_filter_criteria_drop_records_before_the_invoke(clients):
    consumer = Consumer()
    src = source(clients, consumer, FilterCriteria={"Filters": [
        {"Pattern": json.dumps({"dynamodb": {"NewImage": {"kind": {"S": ["k"]}}}})}]})
    put(clients, "k1", "x1", "k2")
    drain(src, 3)
    assert consumer.batches == [["k1", "k2"]]


def test_bisect_isolates_the_bad_record_and_sends_it_to_the_on_failure_destination(clients):
    consumer = Consumer(bad={"bad"})
    failures: list = []
    src = source(clients, consumer, failures, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
                 DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}})
    put(clients, "a", "b", "bad", "c")
    drain(src, 6)
    assert consumer.batches == [["a", "b", "bad", "c"], ["a", "b"], ["bad", "c"], ["bad"], ["c"]]
    assert len(failures) == 1
    arn, document = failures[0]
    assert arn == "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["responseContext"]["functionError"] == "Unhandled"
    assert document["DDBStreamBatchInfo"]["batchSize"] == 1


def test_function_error_without_bisect_retries_the_whole_batch_until_the_retry_limit(clients):
    consumer = Consumer(bad={"bad"})
    src = source(clients, consumer, MaximumRetryAttempts=2)
    put(clients, "a", "bad")
    drain(src, 5)
    assert consumer.batches == [["a", "bad"]] * 3
