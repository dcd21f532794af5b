"""DynamoDB Streams shard iterators expire 15 minutes after they are handed out (AWS), so a stream poller's
GetRecords loop (four a second per mapping) no longer grows the process without end."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from local_runtime.dynamodb import moto_patches
from local_runtime.gateway import Gateway
from local_runtime.runtime import _client


def _stream(monkeypatch, table: str, start: float) -> tuple:
    """A table with a stream behind a fresh gateway, shard iterators expiring by a clock that starts at ``start``
    (later than any iterator other tests of this process handed out): (clock, dynamodb, streams, stream ARN, shard
    id, the streams backend)."""
    now = [time.monotonic() + start]
    monkeypatch.setattr(moto_patches, "_monotonic", lambda: now[0])
    gateway = Gateway()
    ddb, streams = (_client(s, "http://127.0.0.1:7", gateway) for s in ("dynamodb", "dynamodbstreams"))
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return now, ddb, streams, arn, shard, dynamodbstreams_backends["123456789012"]["us-east-1"]


def test_shard_iterators_are_forgotten_15_minutes_after_they_were_handed_out(monkeypatch):
    now, ddb, streams, arn, shard, backend = _stream(monkeypatch, "iter-expiry", 1e6)
    first = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    before = len(backend.shard_iterators)
    iterator, records = first, 0
    for i in range(200):  # a poller's loop: each GetRecords hands out the next iterator
        if i % 50 == 0:
            ddb.put_item(TableName="iter-expiry", Item={"k": {"S": str(i)}})
        answer = streams.get_records(ShardIterator=iterator)
        records += len(answer["Records"])
        iterator = answer["NextShardIterator"]
    assert records == 4
    assert len(backend.shard_iterators) == before + 200  # all handed out within 15 minutes: all still valid
    now[0] += 15 * 60 + 1
    streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
    assert len(backend.shard_iterators) == 1  # the 15-minute-old ones are gone, the new one is there


def test_an_expired_iterator_is_answered_expired_and_the_old_ones_are_gone(monkeypatch):
    now, _, streams, arn, shard, backend = _stream(monkeypatch, "iter-expired", 2e6)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    handed_out = [iterator]
    for _ in range(100):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
        handed_out.append(iterator)
    now[0] += 15 * 60 + 1
    fresh = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    assert not any(old in backend.shard_iterators for old in handed_out)  # forgotten: the process does not grow
    assert streams.get_records(ShardIterator=fresh)["Records"] == []
    with pytest.raises(ClientError) as raised:
        streams.get_records(ShardIterator=handed_out[-1])
    assert raised.value.response["Error"]["Code"] == "ExpiredIteratorException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_expiry_goes_by_the_time_each_iterator_was_last_handed_out(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(moto_patches, "_monotonic", lambda: now[0])
    iterators = moto_patches._ExpiringIterators()
    iterators["a"], iterators["b"] = "A", "B"
    now[0] = 100.0
    iterators["c"] = "C"
    iterators["a"] = "A again"  # handed out again: 15 minutes from now
    now[0] = 15 * 60.0  # "b" is exactly 15 minutes old: expired; "c" and the new "a" are not
    iterators["d"] = "D"
    assert iterators == {"c": "C", "a": "A again", "d": "D"}
    now[0] = 100.0 + 15 * 60
    iterators["e"] = "E"
    assert iterators == {"d": "D", "e": "E"}
