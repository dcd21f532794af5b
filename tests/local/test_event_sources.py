"""SQS event source mapping against moto's queues (in-process), with fake invoke callables."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

import boto3
import pytest
from moto import mock_aws

from local_runtime.awslambda.event_sources.sqs import SqsEventSource, failed_item_ids, InvalidBatchResponse
from tests.support.polling import wait_until

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dofs-local-FulfillOrderFunction"


@pytest.fixture
def sqs(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def make_queue(sqs, name: str, visibility: int = 0, max_receive: int | None = None) -> tuple[str, str, str | None]:
    """Queue (and DLQ when max_receive is given): returns (url, arn, dlq_url)."""
    dlq_url = None
    attributes = {"VisibilityTimeout": str(visibility)}
    if max_receive:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", dlq_url


def mapping(arn: str, report_failures: bool = True, **extra) -> dict:
    m = {"EventSourceArn": arn, "FunctionName": FUNCTION, "BatchSize": 10, "Enabled": True}
    if report_failures:
        m["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    m.update(extra)
    return m


class FakeConsumer:
    """Invoke stand-in: fails the records whose body is in ``fail_bodies``; or answers ``response`` verbatim."""

    def __init__(self, fail_bodies: set[str] = frozenset(), response: bytes | None = None,
                 function_error: str | None = None) -> None:
        self.fail_bodies = set(fail_bodies)
        self.response = response
        self.function_error = function_error
        self.events: list[dict] = []
        self.functions: list[str] = []

    def __call__(self, function: str, event: dict) -> tuple[bytes, str | None]:
        self.functions.append(function)
        self.events.append(event)
        if self.response is not None or self.function_error:
            return self.response or b"{}", self.function_error
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.fail_bodies]
        return json.dumps({"batchItemFailures": failures}).encode(), None


def send(sqs, url: str, *bodies: str) -> list[str]:
    return [sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]


def queue_counts(sqs, url: str) -> tuple[int, int]:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_all_success_deletes_the_batch(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "a", "b", "c")
    consumer = FakeConsumer()
    source = SqsEventSource(mapping(arn), sqs, consumer)
    assert source.poll_once(wait_seconds=0) == 3
    assert consumer.functions == [FUNCTION]
    assert sorted(r["body"] for r in consumer.events[0]["Records"]) == ["a", "b", "c"]
    assert queue_counts(sqs, url) == (0, 0)
    assert source.poll_once(wait_seconds=0) == 0


def test_partial_failure_leaves_exactly_the_failed_messages(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    ids = send(sqs, url, "ok-1", "bad", "ok-2")
    consumer = FakeConsumer(fail_bodies={"bad"})
    source = SqsEventSource(mapping(arn), sqs, consumer)
    assert source.poll_once(wait_seconds=0) == 3
    assert source.poll_once(wait_seconds=0) == 1
    retried = consumer.events[1]["Records"]
    assert [(r["messageId"], r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in retried] == [
        (ids[1], "bad", "2")]


def test_after_max_receive_count_the_message_lands_in_the_dlq(sqs):
    url, arn, dlq_url = make_queue(sqs, "orders", max_receive=2)
    [message_id] = send(sqs, url, "poison")
    consumer = FakeConsumer(fail_bodies={"poison"})
    source = SqsEventSource(mapping(arn), sqs, consumer)
    assert [source.poll_once(wait_seconds=0) for _ in range(3)] == [1, 1, 0]
    assert [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in consumer.events] == ["1", "2"]
    assert queue_counts(sqs, url) == (0, 0)
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in dead] == [(message_id, "poison")]


def test_function_error_retries_the_whole_batch(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "a", "b")
    error = json.dumps({"errorMessage": "boom", "errorType": "FulfillmentError"}).encode()
    consumer = FakeConsumer(response=error, function_error="Unhandled")
    source = SqsEventSource(mapping(arn), sqs, consumer)
    assert source.poll_once(wait_seconds=0) == 2
    assert source.poll_once(wait_seconds=0) == 2
    assert sorted(r["attributes"]["ApproximateReceiveCount"] for r in consumer.events[1]["Records"]) == ["2", "2"]


def test_invoke_exception_loses_nothing(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "a")

    def broken(function, event):
        raise ConnectionError("worker gone")

    source = SqsEventSource(mapping(arn), sqs, broken)
    assert source.poll_once(wait_seconds=0) == 1
    assert queue_counts(sqs, url) == (1, 0)


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"itemId": "x"}]},
    {"batchItemFailures": {"itemIdentifier": "x"}},
    "done",
])
def test_invalid_partial_batch_response_fails_the_whole_batch(sqs, response):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "a", "b")
    consumer = FakeConsumer(response=json.dumps(response).encode())
    source = SqsEventSource(mapping(arn), sqs, consumer)
    assert source.poll_once(wait_seconds=0) == 2
    assert queue_counts(sqs, url) == (2, 0)


@pytest.mark.parametrize("payload", [b"null", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}', b""])
def test_empty_partial_batch_responses_are_complete_success(payload):
    assert failed_item_ids(payload, ["m-1"]) == set()


def test_unparsable_partial_batch_response_is_invalid():
    with pytest.raises(InvalidBatchResponse):
        failed_item_ids(b"{not json", ["m-1"])


def test_without_report_batch_item_failures_the_response_is_ignored_with_one_warning(sqs, caplog):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "bad")
    consumer = FakeConsumer(fail_bodies={"bad"})
    source = SqsEventSource(mapping(arn, report_failures=False), sqs, consumer)
    with caplog.at_level(logging.WARNING, logger="local_runtime.awslambda.event_sources.sqs"):
        assert source.poll_once(wait_seconds=0) == 1
        send(sqs, url, "bad")
        assert source.poll_once(wait_seconds=0) == 1
    assert queue_counts(sqs, url) == (0, 0)
    warnings = [r for r in caplog.records if "lacks ReportBatchItemFailures" in r.getMessage()]
    assert len(warnings) == 1


def test_event_record_shape(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    body = json.dumps({"order_id": "o-1"})
    message_id = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
        "source": {"DataType": "String", "StringValue": "api"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    })["MessageId"]
    consumer = FakeConsumer()
    SqsEventSource(mapping(arn), sqs, consumer).poll_once(wait_seconds=0)
    [record] = consumer.events[0]["Records"]
    assert list(record) == ["messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                            "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion"]
    assert (record["messageId"], record["body"]) == (message_id, body)
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, REGION)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "source": {"stringValue": "api", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {"binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }


def test_batch_size_limits_one_delivery(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, *[f"m{i}" for i in range(5)])
    consumer = FakeConsumer()
    source = SqsEventSource(mapping(arn, BatchSize=2), sqs, consumer)
    assert source.poll_once(wait_seconds=0) == 2
    assert queue_counts(sqs, url) == (3, 0)


def test_batch_larger_than_ten_is_gathered_within_the_batching_window(sqs):
    url, arn, _ = make_queue(sqs, "orders", visibility=30)   # 0 would hand the first ten out again
    send(sqs, url, *[f"m{i}" for i in range(15)])
    consumer = FakeConsumer()
    source = SqsEventSource(mapping(arn, BatchSize=15, MaximumBatchingWindowInSeconds=1), sqs, consumer,
                            clock_scale=0.2)
    assert source.poll_once(wait_seconds=0) == 15
    assert len(consumer.events) == 1
    assert queue_counts(sqs, url) == (0, 0)


def test_scaled_visibility_timeout_after_a_failure(sqs):
    # GIVEN a queue whose 30 s visibility timeout, scaled by 0.01, rounds to 0 s
    url, arn, _ = make_queue(sqs, "orders", visibility=30)
    send(sqs, url, "bad")
    consumer = FakeConsumer(fail_bodies={"bad"})
    scaled = SqsEventSource(mapping(arn), sqs, consumer, clock_scale=0.01)
    unscaled = SqsEventSource(mapping(arn), sqs, consumer)
    # WHEN a delivery fails THEN the message is visible again at once
    assert scaled.poll_once(wait_seconds=0) == 1
    # AND with scale 1 the queue's own 30 s apply after a failure: the message stays invisible
    assert unscaled.poll_once(wait_seconds=0) == 1
    assert unscaled.poll_once(wait_seconds=0) == 0
    assert queue_counts(sqs, url) == (0, 1)
    assert [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in consumer.events] == ["1", "2"]


def test_disabled_mapping_does_not_poll(sqs):
    url, arn, _ = make_queue(sqs, "orders")
    send(sqs, url, "a")
    source = SqsEventSource(mapping(arn, Enabled=False), sqs, FakeConsumer())
    source.start()
    assert source._threads == []
    source.stop()


def test_pollers_deliver_in_the_background_and_stop_promptly(sqs):
    url, arn, _ = make_queue(sqs, "orders", visibility=30)   # 0 lets concurrent pollers share a message
    delivered = threading.Event()
    seen: list[str] = []

    def consumer(function, event):
        seen.extend(r["body"] for r in event["Records"])
        if len(seen) >= 3:
            delivered.set()
        return b"{}", None

    source = SqsEventSource(mapping(arn, ScalingConfig={"MaximumConcurrency": 3}), sqs, consumer, pollers=5)
    assert source.pollers == 3
    source.start()
    try:
        send(sqs, url, "a", "b", "c")
        assert delivered.wait(5)
    finally:
        started = time.monotonic()
        source.stop()
    assert time.monotonic() - started < 2.5
    assert sorted(seen) == ["a", "b", "c"]
    assert all(not t.is_alive() for t in source._threads)
    assert queue_counts(sqs, url) == (0, 0)


class _ArrivingClient:
    """The SQS client of one poller; ``arrived`` is set just before each of its ReceiveMessage calls is sent,
    ``answered`` once one has come back."""

    def __init__(self, client) -> None:
        self._client = client
        self.arrived, self.answered = threading.Event(), threading.Event()

    def receive_message(self, **kwargs):
        self.arrived.set()
        try:
            return self._client.receive_message(**kwargs)
        finally:
            self.answered.set()

    def __getattr__(self, name):
        return getattr(self._client, name)


class _WatchedLock:
    """A lock that sets ``contended`` when a thread has to wait for it (sqs/moto_patches.py REQUESTS' lock)."""

    def __init__(self, lock) -> None:
        self._lock = lock
        self.contended = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        self.contended.set()
        return self._lock.acquire(True, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def test_two_pollers_moving_the_same_messages_to_the_dlq_take_turns(sqs, monkeypatch):
    """The race the SQS request lock closes (local_runtime/sqs/moto_patches.py, the only lock the pollers rely on):
    moto's ReceiveMessage moves every message at maxReceiveCount to the DLQ one at a time; a second receive that ran
    meanwhile saw the same messages and moved them again (ValueError in moto, a 500 to the poller). Here the first
    poller is held inside its move until the second's ReceiveMessage waits for the lock (or, were there no lock, has
    been answered): the second must wait for the first to finish, then find nothing, and every message lands in the
    DLQ once."""
    from moto.sqs.models import Queue

    from local_runtime.sqs import moto_patches

    url, arn, dlq_url = make_queue(sqs, "orders", max_receive=1)
    ids = send(sqs, url, *[f"m{i}" for i in range(5)])
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 5  # receive count 1 each
    first, second = _ArrivingClient(sqs), _ArrivingClient(sqs)
    consumer = FakeConsumer()
    pollers = [SqsEventSource(mapping(arn), first, consumer), SqsEventSource(mapping(arn), second, consumer)]
    assert pollers[0].queue_url == pollers[1].queue_url == url  # looked up now: ReceiveMessage is their next call
    inside_move, add_message = threading.Event(), Queue.add_message
    lock = _WatchedLock(moto_patches.REQUESTS._lock)  # noqa: SLF001

    def add_slowly(queue, message):  # the first move to the DLQ waits until the other poller's request is held
        if queue.name == "orders-dlq" and not inside_move.is_set():
            inside_move.set()
            assert second.arrived.wait(5)
            # the other request held by the lock, or (were there none) run through
            wait_until(lambda: lock.contended.is_set() or second.answered.is_set(), 5,
                       "the second ReceiveMessage neither waited for the lock nor was answered", 0.005)
        add_message(queue, message)

    monkeypatch.setattr(moto_patches.REQUESTS, "_lock", lock)
    monkeypatch.setattr(Queue, "add_message", add_slowly)
    outcomes: dict[int, object] = {}

    def poll(index: int) -> None:
        try:
            outcomes[index] = pollers[index].poll_once(wait_seconds=0)
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            outcomes[index] = exc

    threads = [threading.Thread(target=poll, args=(0,))]
    threads[0].start()
    assert inside_move.wait(5)
    threads.append(threading.Thread(target=poll, args=(1,)))
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert outcomes == {0: 0, 1: 0}
    assert consumer.events == []
    assert queue_counts(sqs, url) == (0, 0)
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["MessageId"] for m in dead) == sorted(ids)
