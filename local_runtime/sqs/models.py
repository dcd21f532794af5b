"""SQS message move tasks (dead-letter queue redrive) at the endpoint: StartMessageMoveTask, ListMessageMoveTasks and
CancelMessageMoveTask, as the SQS API reference documents them. moto 5.2.5 answers them with NotImplementedError.

* ``StartMessageMoveTask(SourceArn, DestinationArn?, MaxNumberOfMessagesPerSecond?)``: the source must be the
  dead-letter queue of at least one queue (``InvalidParameterValue`` "Source queue must be configured as a Dead
  Letter Queue."), the destination must exist (``ResourceNotFoundException``), one RUNNING task per source at a time
  (``InvalidParameterValue`` "There is already a task running..."). Without ``DestinationArn`` each message goes back
  to the queue it was dead-lettered from (recorded when moto moved it; a DLQ with a single source sends everything
  there). ``ApproximateNumberOfMessagesToMove`` is the source's visible messages when the task starts; the task moves
  at most that many, at ``MaxNumberOfMessagesPerSecond`` (1 to 500) or as fast as it can without it, then ends
  COMPLETED; a destination deleted meanwhile ends it FAILED with ``AWS.SimpleQueueService.NonExistentQueue``.
* ``ListMessageMoveTasks(SourceArn, MaxResults? = 1, at most 10)``: the most recent tasks first; ``TaskHandle`` only
  while RUNNING; ``DestinationArn`` and ``MaxNumberOfMessagesPerSecond`` only when the start request gave them.
* ``CancelMessageMoveTask(TaskHandle)``: a RUNNING task stops after the message it is moving (CANCELLED); the
  messages already moved stay moved. Returns ``ApproximateNumberOfMessagesMoved``.

The error codes and messages above are those AWS answers (recorded against AWS by public SDK-level tests). A moved
message is sent to the destination as a new message (new id, receive count 0) with its body, message attributes and,
on FIFO queues, its group and deduplication ids; then it is deleted from the source. Only the JSON protocol
(``X-Amz-Target: AmazonSQS.<Action>``, every current SDK and the AWS CLI) reaches these; the query protocol gets
moto's answer. The rate is real time (TIME_SCALE does not change it).
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from local_runtime.sqs.exceptions import (InvalidParameterValue, MissingParameter, NonExistentQueue,
                                          ResourceNotFoundException, SqsError)
from local_runtime.sqs.moto_patches import locked, record_dead_letter_sources

MAX_RATE = 500
_UNLIMITED_BATCH = 100  # messages moved per pass of a task without MaxNumberOfMessagesPerSecond
_FINISHED_KEPT = 10  # ListMessageMoveTasks returns at most 10 per source: older finished tasks are forgotten


@dataclass
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    failure_reason: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def handle(self) -> str:
        return encode_handle(self.task_id, self.source_arn)

    def entry(self) -> dict:
        out: dict[str, Any] = {"Status": self.status, "SourceArn": self.source_arn,
                               "ApproximateNumberOfMessagesMoved": self.moved,
                               "ApproximateNumberOfMessagesToMove": self.to_move,
                               "StartedTimestamp": self.started_ms}
        if self.status == "RUNNING":
            out["TaskHandle"] = self.handle
        if self.destination_arn is not None:
            out["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure_reason is not None:
            out["FailureReason"] = self.failure_reason
        return out


def encode_handle(task_id: str, source_arn: str) -> str:
    """An opaque handle that names its source queue (AWS answers an unknown source in a handle with
    ResourceNotFoundException for the SourceArn, an unreadable handle with InvalidParameterValue)."""
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def decode_handle(handle: Any) -> tuple[str, str]:
    try:
        data = json.loads(base64.b64decode(str(handle), validate=True))
        return str(data["taskId"]), str(data["sourceArn"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from None


def _parse_arn(arn: Any, parameter: str) -> tuple[str, str, str]:
    """(region, account, queue name) of an SQS queue ARN."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        raise InvalidParameterValue(f"You must use this format to specify the {parameter}: "
                                    f"arn:<partition>:<service>:<region>:<account-id>:<resource-id>")
    return parts[3], parts[4], parts[5]


class MessageMoveTasks:
    """The endpoint's message move tasks, over moto's SQS backends (one thread per running task)."""

    def __init__(self, sleep: Callable[[float, threading.Event], bool] | None = None,
                 now_ms: Callable[[], int] | None = None) -> None:
        record_dead_letter_sources()
        self._tasks: dict[str, list[MoveTask]] = {}  # source ARN -> tasks, oldest first
        self._lock = threading.Lock()
        # sleep(seconds, cancel) -> True when cancelled; injectable so the rate is tested without waiting
        self._sleep = sleep or (lambda seconds, cancel: cancel.wait(seconds))
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._threads: list[threading.Thread] = []

    # -- the API ----------------------------------------------------------------------------------------------------

    def start(self, body: dict) -> dict:
        source_arn = body.get("SourceArn")
        if not source_arn:
            raise MissingParameter("The request must contain the parameter SourceArn.")
        source = self._queue(source_arn, "SourceArn")
        backend = self._backend(source_arn)
        is_dlq = bool(locked(lambda: backend.list_dead_letter_source_queues(source.name)))
        if not is_dlq:
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        destination_arn = body.get("DestinationArn")
        if destination_arn is not None:
            self._queue(destination_arn, "DestinationArn")
            if destination_arn == source_arn:
                raise InvalidParameterValue("Source queue arn and destination queue arn cannot be the same.")
        rate = body.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= MAX_RATE):
            raise InvalidParameterValue(f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                                        f"Reason: must be between 1 and {MAX_RATE}.")
        with self._lock:
            tasks = self._tasks.setdefault(source_arn, [])
            if any(task.status == "RUNNING" for task in tasks):
                raise InvalidParameterValue("There is already a task running. Only one active task is allowed for a "
                                            "source queue arn at a given time.")
            to_move = locked(lambda: len(source.messages))
            task = MoveTask(uuid.uuid4().hex, source_arn, destination_arn, rate, self._now_ms(), to_move)
            tasks.append(task)
            finished = [t for t in tasks if t.status != "RUNNING"]
            for old in finished[:max(0, len(finished) - _FINISHED_KEPT)]:
                tasks.remove(old)
        thread = threading.Thread(target=self._run, args=(task,), daemon=True, name=f"sqs-move-{task.task_id[:8]}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return {"TaskHandle": task.handle}

    def list(self, body: dict) -> dict:
        source_arn = body.get("SourceArn")
        if not source_arn:
            raise MissingParameter("The request must contain the parameter SourceArn.")
        self._queue(source_arn, "SourceArn")
        max_results = body.get("MaxResults")
        if max_results is None:
            max_results = 1
        if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= 10:
            raise InvalidParameterValue(f"Value {max_results} for parameter MaxResults is invalid. Reason: must be "
                                        f"between 1 and 10.")
        with self._lock:
            tasks = list(reversed(self._tasks.get(source_arn, [])))[:max_results]
            return {"Results": [task.entry() for task in tasks]}

    def cancel(self, body: dict) -> dict:
        handle = body.get("TaskHandle")
        if not handle:
            raise MissingParameter("The request must contain the parameter TaskHandle.")
        task_id, source_arn = decode_handle(handle)
        self._queue(source_arn, "SourceArn")
        with self._lock:
            task = next((t for t in self._tasks.get(source_arn, []) if t.task_id == task_id), None)
        if task is None:
            raise ResourceNotFoundException("Task does not exist.")
        if task.status != "RUNNING":
            raise InvalidParameterValue(f"Only a RUNNING task can be cancelled; this task is {task.status}.")
        task.cancel.set()
        task.done.wait(5)
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    def stop(self) -> None:
        """Cancel every running task (the runtime is stopping)."""
        with self._lock:
            running = [t for tasks in self._tasks.values() for t in tasks if t.status == "RUNNING"]
        for task in running:
            task.cancel.set()
        for thread in self._threads:
            thread.join(timeout=2)

    # -- moving -----------------------------------------------------------------------------------------------------

    def _run(self, task: MoveTask) -> None:
        try:
            while task.moved < task.to_move:
                if task.cancel.is_set():
                    task.status = "CANCELLED"
                    return
                budget = min(task.rate or _UNLIMITED_BATCH, task.to_move - task.moved)
                pass_started = time.monotonic()
                moved = self._move(task, budget)
                if moved == 0:
                    break  # the source has no visible message left (received by someone else meanwhile)
                if task.rate is not None and task.moved < task.to_move:
                    if self._sleep(max(0.0, 1.0 - (time.monotonic() - pass_started)), task.cancel):
                        task.status = "CANCELLED"
                        return
            task.status = "CANCELLED" if task.cancel.is_set() and task.moved < task.to_move else "COMPLETED"
        except SqsError as exc:
            task.status, task.failure_reason = "FAILED", exc.code
        except Exception as exc:  # noqa: BLE001 - a task that breaks says so in its status, never silently
            task.status, task.failure_reason = "FAILED", f"{type(exc).__name__}: {exc}"
        finally:
            task.done.set()

    def _move(self, task: MoveTask, budget: int) -> int:
        """Move up to ``budget`` visible messages of the task's source, one at a time; returns how many moved."""
        backend = self._backend(task.source_arn)
        return locked(lambda: self._move_locked(task, backend, budget))

    def _move_locked(self, task: MoveTask, backend: Any, budget: int) -> int:
        from moto.sqs.exceptions import QueueDoesNotExist

        moved = 0
        try:
            source = backend.get_queue(_parse_arn(task.source_arn, "SourceArn")[2])
        except QueueDoesNotExist:
            raise NonExistentQueue("The source queue was deleted") from None
        for message in list(source.messages)[:budget]:
            if task.cancel.is_set():
                break
            destination_arn = task.destination_arn or self._original_source(backend, source, message)
            try:
                destination = backend.get_queue(_parse_arn(destination_arn, "DestinationArn")[2])
            except QueueDoesNotExist:
                raise NonExistentQueue("The destination queue was deleted") from None
            backend.send_message(destination.name, message.body,
                                 message_attributes=message.message_attributes or None,
                                 deduplication_id=message.deduplication_id if destination.fifo_queue else None,
                                 group_id=message.group_id if destination.fifo_queue else None,
                                 system_attributes=message.system_attributes or None,
                                 validate_group_id=destination.fifo_queue)
            source._messages.remove(message)
            source.pending_messages.discard(message)
            moved += 1
            task.moved += 1
        return moved

    @staticmethod
    def _original_source(backend: Any, dlq: Any, message: Any) -> str:
        recorded = getattr(message, "dead_letter_source_arn", None)
        if recorded:
            return recorded
        sources = backend.list_dead_letter_source_queues(dlq.name)
        if len(sources) == 1:
            return sources[0].queue_arn
        raise NonExistentQueue("The message's original source queue is unknown")

    # -- lookups ----------------------------------------------------------------------------------------------------

    @staticmethod
    def _backend(arn: str) -> Any:
        from moto.sqs.models import sqs_backends

        region, account, _ = _parse_arn(arn, "SourceArn")
        return sqs_backends[account][region]

    def _queue(self, arn: Any, parameter: str) -> Any:
        from moto.sqs.models import sqs_backends

        region, account, name = _parse_arn(arn, parameter)
        queue = locked(lambda: sqs_backends[account][region].queues.get(name))
        if queue is None:
            raise ResourceNotFoundException(f"The resource that you specified for the {parameter} parameter doesn't "
                                            f"exist.")
        return queue
