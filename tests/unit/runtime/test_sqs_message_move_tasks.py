"""SQS message move tasks (DLQ redrive) at the endpoint, through boto3 as users call them: StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask (local_runtime/sqs/models.py). The error codes and messages asserted are
those AWS answers. The rate is driven by an injected sleep, so no test waits for a real second."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from local_runtime.gateway import Gateway
from local_runtime.runtime import _client
from local_runtime.sqs.models import MessageMoveTasks, encode_handle

ENDPOINT = "http://127.0.0.1:4566"  # never connected to: the clients call the gateway in process


class Sleeps:
    """An injected sleep: records how many messages had moved at each pause; can hold the task until released."""

    def __init__(self, hold: bool = False) -> None:
        self.moved_at_pause: list[int] = []
        self.paused = threading.Event()
        self.release = threading.Event()
        self.hold = hold
        self.task_moved = None

    def __call__(self, seconds: float, cancel: threading.Event) -> bool:
        assert 0 <= seconds <= 1.0
        self.moved_at_pause.append(self.task_moved())
        self.paused.set()
        if self.hold:
            while not (cancel.is_set() or self.release.is_set()):
                cancel.wait(0.01)
        return cancel.is_set()


@pytest.fixture(scope="module")
def gateway():
    return Gateway()


@pytest.fixture
def sqs(gateway):
    gateway.sqs_moves = MessageMoveTasks()
    return _client("sqs", ENDPOINT, gateway)


def _queue(sqs, name: str, dlq_arn: str | None = None, max_receives: int = 1) -> tuple[str, str]:
    attributes = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})} \
        if dlq_arn else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _pair(sqs) -> tuple[tuple[str, str], tuple[str, str]]:
    """(source url, arn), (dlq url, arn): a fresh queue whose DLQ gets a message after one receive."""
    tag = uuid.uuid4().hex[:8]
    dlq = _queue(sqs, f"dlq-{tag}")
    source = _queue(sqs, f"src-{tag}", dlq[1])
    return source, dlq


def _dead_letter(sqs, source_url: str, bodies: list[str]) -> None:
    """Send ``bodies`` to the source, receive each once (maxReceiveCount 1): the next receive moves them to the DLQ."""
    for body in bodies:
        sqs.send_message(QueueUrl=source_url, MessageBody=body,
                         MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})
    received = 0
    while received < len(bodies):
        received += len(sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10,
                                            VisibilityTimeout=0).get("Messages", []))
    assert sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10).get("Messages", []) == []


def _count(sqs, url: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def _bodies(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                   AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def _error(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return {"Code": error["Code"], "Message": error["Message"],
            "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def _wait_done(gateway, source_arn: str) -> dict:
    for task in gateway.sqs_moves._tasks[source_arn]:
        assert task.done.wait(5), task
    return gateway.sqs_moves._tasks[source_arn][-1]


def test_redrive_without_destination_sends_each_message_back_to_its_own_source(sqs, gateway):
    tag = uuid.uuid4().hex[:8]
    dlq_url, dlq_arn = _queue(sqs, f"dlq-{tag}")
    first_url, _ = _queue(sqs, f"first-{tag}", dlq_arn)
    second_url, _ = _queue(sqs, f"second-{tag}", dlq_arn)
    _dead_letter(sqs, first_url, ["a1", "a2"])
    _dead_letter(sqs, second_url, ["b1"])
    assert _count(sqs, dlq_url) == 3

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    _wait_done(gateway, dlq_arn)

    assert handle
    assert _bodies(sqs, first_url) == ["a1", "a2"]
    assert _bodies(sqs, second_url) == ["b1"]
    assert _count(sqs, dlq_url) == 0
    [entry] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert isinstance(entry.pop("StartedTimestamp"), int)
    assert entry == {"Status": "COMPLETED", "SourceArn": dlq_arn, "ApproximateNumberOfMessagesMoved": 3,
                     "ApproximateNumberOfMessagesToMove": 3}


def test_a_moved_message_keeps_its_body_and_attributes_and_starts_a_new_receive_count(sqs, gateway):
    (source_url, _), (dlq_url, dlq_arn) = _pair(sqs)
    _dead_letter(sqs, source_url, ["payload"])
    sqs.start_message_move_task(SourceArn=dlq_arn)
    _wait_done(gateway, dlq_arn)

    [message] = sqs.receive_message(QueueUrl=source_url, MessageAttributeNames=["All"],
                                    AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert message["Body"] == "payload"
    assert message["MessageAttributes"] == {"kind": {"DataType": "String", "StringValue": "order"}}
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_explicit_destination_at_a_rate_moves_that_many_a_second(sqs, gateway):
    (source_url, _), (dlq_url, dlq_arn) = _pair(sqs)
    other_url, other_arn = _queue(sqs, f"other-{uuid.uuid4().hex[:8]}")
    sleeps = Sleeps()
    gateway.sqs_moves = MessageMoveTasks(sleep=sleeps)
    sleeps.task_moved = lambda: gateway.sqs_moves._tasks[dlq_arn][-1].moved
    _dead_letter(sqs, source_url, [f"m{i}" for i in range(5)])
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=other_arn, MaxNumberOfMessagesPerSecond=2)
    _wait_done(gateway, dlq_arn)

    assert sleeps.moved_at_pause == [2, 4]  # two a second, no pause after the last
    assert _count(sqs, other_url) == 5
    assert _count(sqs, source_url) == 0
    [entry] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    entry.pop("StartedTimestamp")
    assert entry == {"Status": "COMPLETED", "SourceArn": dlq_arn, "DestinationArn": other_arn,
                     "MaxNumberOfMessagesPerSecond": 2, "ApproximateNumberOfMessagesMoved": 5,
                     "ApproximateNumberOfMessagesToMove": 5}


def test_one_running_task_per_source_then_cancel_keeps_what_moved(sqs, gateway):
    (source_url, _), (dlq_url, dlq_arn) = _pair(sqs)
    sleeps = Sleeps(hold=True)
    gateway.sqs_moves = MessageMoveTasks(sleep=sleeps)
    sleeps.task_moved = lambda: gateway.sqs_moves._tasks[dlq_arn][-1].moved
    _dead_letter(sqs, source_url, ["x", "y", "z"])
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    assert sleeps.paused.wait(5)

    assert _error(sqs.start_message_move_task, SourceArn=dlq_arn) == {
        "Code": "InvalidParameterValue", "Status": 400,
        "Message": "There is already a task running. Only one active task is allowed for a source queue arn at a "
                   "given time."}
    [running] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (running["Status"], running["TaskHandle"], running["ApproximateNumberOfMessagesMoved"],
            running["ApproximateNumberOfMessagesToMove"]) == ("RUNNING", handle, 1, 3)

    assert sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"] == 1
    [cancelled] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert cancelled["Status"] == "CANCELLED" and "TaskHandle" not in cancelled
    assert (_count(sqs, source_url), _count(sqs, dlq_url)) == (1, 2)
    assert _error(sqs.cancel_message_move_task, TaskHandle=handle) == {
        "Code": "InvalidParameterValue", "Status": 400,
        "Message": "Only a RUNNING task can be cancelled; this task is CANCELLED."}


def test_a_destination_deleted_while_running_fails_the_task(sqs, gateway):
    (source_url, _), (dlq_url, dlq_arn) = _pair(sqs)
    other_url, other_arn = _queue(sqs, f"gone-{uuid.uuid4().hex[:8]}")
    sleeps = Sleeps(hold=True)
    gateway.sqs_moves = MessageMoveTasks(sleep=sleeps)
    sleeps.task_moved = lambda: gateway.sqs_moves._tasks[dlq_arn][-1].moved
    _dead_letter(sqs, source_url, ["x", "y"])
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=other_arn, MaxNumberOfMessagesPerSecond=1)
    assert sleeps.paused.wait(5)
    sqs.delete_queue(QueueUrl=other_url)
    sleeps.release.set()
    _wait_done(gateway, dlq_arn)

    [entry] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (entry["Status"], entry["FailureReason"], entry["ApproximateNumberOfMessagesMoved"]) == \
        ("FAILED", "AWS.SimpleQueueService.NonExistentQueue", 1)
    assert _count(sqs, dlq_url) == 1  # the message not moved stays in the DLQ


def test_list_gives_the_most_recent_first_up_to_max_results(sqs, gateway):
    (source_url, _), (dlq_url, dlq_arn) = _pair(sqs)
    for body in ("one", "two"):  # the second round dead-letters "one" (redriven by the first) again with "two"
        _dead_letter(sqs, source_url, [body])
        sqs.start_message_move_task(SourceArn=dlq_arn)
        _wait_done(gateway, dlq_arn)

    results = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert [r["ApproximateNumberOfMessagesMoved"] for r in results] == [2, 1]
    assert results[0]["StartedTimestamp"] >= results[1]["StartedTimestamp"]
    assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]) == 1
    assert _error(sqs.list_message_move_tasks, SourceArn=dlq_arn, MaxResults=11) == {
        "Code": "InvalidParameterValue", "Status": 400,
        "Message": "Value 11 for parameter MaxResults is invalid. Reason: must be between 1 and 10."}


def test_bad_requests_get_the_errors_aws_answers(sqs):
    (source_url, source_arn), (dlq_url, dlq_arn) = _pair(sqs)
    missing = dlq_arn + "-missing"
    assert _error(sqs.start_message_move_task, SourceArn=source_arn) == {
        "Code": "InvalidParameterValue", "Status": 400,
        "Message": "Source queue must be configured as a Dead Letter Queue."}
    assert _error(sqs.start_message_move_task, SourceArn=missing) == {
        "Code": "ResourceNotFoundException", "Status": 404,
        "Message": "The resource that you specified for the SourceArn parameter doesn't exist."}
    assert _error(sqs.start_message_move_task, SourceArn=dlq_arn, DestinationArn=missing) == {
        "Code": "ResourceNotFoundException", "Status": 404,
        "Message": "The resource that you specified for the DestinationArn parameter doesn't exist."}
    assert _error(sqs.start_message_move_task, SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=501) == {
        "Code": "InvalidParameterValue", "Status": 400,
        "Message": "Value 501 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 "
                   "and 500."}
    assert _error(sqs.cancel_message_move_task, TaskHandle="not a handle") == {
        "Code": "InvalidParameterValue", "Status": 400, "Message": "Value for parameter TaskHandle is invalid."}
    assert _error(sqs.cancel_message_move_task, TaskHandle=encode_handle("no-such-task", dlq_arn)) == {
        "Code": "ResourceNotFoundException", "Status": 404, "Message": "Task does not exist."}
    assert _error(sqs.cancel_message_move_task, TaskHandle=encode_handle("t", missing)) == {
        "Code": "ResourceNotFoundException", "Status": 404,
        "Message": "The resource that you specified for the SourceArn parameter doesn't exist."}
    assert _error(sqs.list_message_move_tasks, SourceArn=missing)["Code"] == "ResourceNotFoundException"
