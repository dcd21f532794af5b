"""SQS event source mappings: our poller delivers queue messages to Lambda, as the Lambda service does on AWS.

moto keeps the queues (visibility timeout, receive counts, redrive to the dead-letter queue on receive); moto never owns
the mapping (it would invoke inside SendMessage, one message at a time, without visibility or receive counts).

One ``SqsEventSource`` per ``AWS::Lambda::EventSourceMapping``. Semantics, as AWS documents them:

* ReceiveMessage with up to ``BatchSize`` messages (10 per call; larger batches are gathered over
  ``MaximumBatchingWindowInSeconds``), all system and message attributes, the queue's own visibility timeout.
* One invoke per batch with ``{"Records": [...]}`` in Lambda's SQS record shape.
* Function error (or an invoke that raises): nothing is deleted; the whole batch comes back after the visibility
  timeout and the queue's redrive policy moves it to the DLQ after ``maxReceiveCount`` receives.
* Success without ``ReportBatchItemFailures``: the whole batch is deleted (a ``batchItemFailures`` answer is ignored,
  with one warning per mapping).
* Success with ``ReportBatchItemFailures``: the messages named in ``batchItemFailures[].itemIdentifier`` stay, the others
  are deleted. A null/empty response or list is a complete success; an unparsable response, an entry without a
  non-empty string ``itemIdentifier`` (null, empty, bad key name) or an id not in the batch makes the whole batch fail.

Time scale: moto enforces visibility timeouts in real time, so with ``clock_scale`` != 1 the poller sets the visibility
of the messages of a failed delivery to ``round(VisibilityTimeout * clock_scale)`` seconds (ChangeMessageVisibility;
0 = visible at once) and, with ``clock_scale`` > 1, stretches the visibility of a received batch the same way. The
batching window is scaled too. With ``clock_scale`` == 1 the queue's own timeout applies untouched.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any

from local_runtime.awslambda.interface import Invoke
from local_runtime.cfn import cfn_bool

logger = logging.getLogger(__name__)

MAX_RECEIVE = 10                # SQS's per-call limit
DEFAULT_POLLERS = 2
ERROR_BACKOFF_SECONDS = 0.5     # after an exception in a cycle
FAILURE_PAUSE_SECONDS = 0.05    # after a failed delivery, so a zero visibility timeout does not spin


class InvalidBatchResponse(Exception):
    """A ReportBatchItemFailures answer Lambda treats as a failure of the whole batch."""


def queue_name_from_arn(arn: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>`` -> ``<name>``."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {arn!r}")
    return parts[5]


def lambda_message_attributes(attributes: dict) -> dict:
    """ReceiveMessage's ``MessageAttributes`` -> the shape Lambda puts into an SQS record."""
    converted = {}
    for name, value in (attributes or {}).items():
        item: dict[str, Any] = {}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = _b64(value["BinaryValue"])
        item["stringListValues"] = list(value.get("StringListValues") or [])
        item["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues") or []]
        item["dataType"] = value.get("DataType")
        converted[name] = item
    return converted


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode("ascii")


def failed_item_ids(payload: bytes, batch_ids: list[str]) -> set[str]:
    """The ids a ReportBatchItemFailures answer names; raises ``InvalidBatchResponse`` when the batch fails whole."""
    text = payload.decode("utf-8", "replace").strip() if payload else ""
    if not text:
        return set()
    try:
        response = json.loads(text)
    except ValueError as exc:
        raise InvalidBatchResponse(f"response is not JSON: {exc}") from None
    if response is None:
        return set()
    if not isinstance(response, dict):
        raise InvalidBatchResponse(f"response is a {type(response).__name__}, not an object")
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        raise InvalidBatchResponse("batchItemFailures is not a list")
    known = set(batch_ids)
    failed = set()
    for entry in failures:
        if not isinstance(entry, dict) or "itemIdentifier" not in entry:
            raise InvalidBatchResponse(f"batch item failure without itemIdentifier: {entry!r}")
        item = entry["itemIdentifier"]
        if not isinstance(item, str) or not item:
            raise InvalidBatchResponse(f"null or empty itemIdentifier: {item!r}")
        if item not in known:
            raise InvalidBatchResponse(f"itemIdentifier {item!r} is not a message of this batch")
        failed.add(item)
    return failed


class SqsEventSource:
    """Polls one queue and delivers batches to one function, like a Lambda SQS event source mapping."""

    def __init__(self, mapping: dict, sqs_client: Any, invoke: Invoke, clock_scale: float = 1.0,
                 region: str = "us-east-1", account_id: str = "123456789012", pollers: int = DEFAULT_POLLERS,
                 wait_seconds: int = 1, faults=None) -> None:
        self.mapping = mapping
        self.queue_arn: str = mapping["EventSourceArn"]
        self.function: str = mapping["FunctionName"]
        self.batch_size = int(mapping.get("BatchSize") or 10)
        self.batching_window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        self.report_item_failures = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.enabled = cfn_bool(mapping.get("Enabled"), default=True)
        max_concurrency = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
        self.pollers = max(1, min(pollers, int(max_concurrency)) if max_concurrency else pollers)
        self.sqs = sqs_client
        self.invoke = invoke
        self.clock_scale = clock_scale
        self.region = region
        self.account_id = account_id
        self.wait_seconds = wait_seconds
        self.faults = faults  # local_runtime.awslambda.faults.Faults: duplicate deliveries of chaos runs (FAULTS), else None
        self._queue_url: str | None = None
        self._visibility_timeout: int | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._warned_ignored_failures = False
        self._local = threading.local()     # per poller thread: did the last cycle fail?

    def __repr__(self) -> str:
        return f"SqsEventSource({self.queue_arn} -> {self.function})"

    # ----- queue facts -----------------------------------------------------------------------------------------------

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self.sqs.get_queue_url(QueueName=queue_name_from_arn(self.queue_arn))["QueueUrl"]
        return self._queue_url

    @property
    def visibility_timeout(self) -> int:
        if self._visibility_timeout is None:
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                       AttributeNames=["VisibilityTimeout"])["Attributes"]
            self._visibility_timeout = int(attributes.get("VisibilityTimeout", 30))
        return self._visibility_timeout

    def _scaled_visibility(self) -> int:
        return max(0, round(self.visibility_timeout * self.clock_scale))

    # ----- one cycle -------------------------------------------------------------------------------------------------

    def poll_once(self, wait_seconds: int | None = None) -> int:
        """Receive one batch and deliver it; returns how many messages were delivered (0 when the queue was empty)."""
        messages = self._receive(self.wait_seconds if wait_seconds is None else wait_seconds)
        if not messages:
            return 0
        if self.clock_scale > 1:
            self._change_visibility(messages, self._scaled_visibility())
        records = [self._record(m) for m in messages]
        ids = [m["MessageId"] for m in messages]
        try:
            payload, function_error = self.invoke(self.function, {"Records": records})
        except Exception:
            logger.exception("%r: invoke failed; the batch of %d stays in the queue", self, len(messages))
            self._after_failure(messages)
            return len(messages)
        if self.faults is not None and self.faults.duplicate(self.function):
            try:  # at-least-once: the same records once more; the first delivery's outcome decides
                self.invoke(self.function, {"Records": records})
            except Exception:
                logger.exception("%r: duplicate delivery failed", self)

        if function_error:
            logger.warning("%r: function error (%s) on a batch of %d; it comes back after the visibility timeout: %s",
                           self, function_error, len(messages), payload[:1000].decode("utf-8", "replace"))
            self._after_failure(messages)
            return len(messages)

        failed: set[str] = set()
        if self.report_item_failures:
            try:
                failed = failed_item_ids(payload, ids)
            except InvalidBatchResponse as exc:
                logger.warning("%r: invalid partial batch response, the whole batch of %d failed: %s",
                               self, len(messages), exc)
                self._after_failure(messages)
                return len(messages)
        else:
            self._warn_if_failures_ignored(payload)

        self._delete([m for m in messages if m["MessageId"] not in failed])
        if failed:
            logger.info("%r: %d of %d messages failed and stay in the queue", self, len(failed), len(messages))
            self._after_failure([m for m in messages if m["MessageId"] in failed])
        return len(messages)

    def _receive(self, wait_seconds: int) -> list[dict]:
        batch: dict[str, dict] = {}
        deadline = time.monotonic() + self.batching_window * self.clock_scale
        wait = max(0, min(20, int(wait_seconds)))
        # Concurrent receives of one queue (this mapping's pollers, other consumers) take turns inside moto: every SQS
        # request holds the SQS request lock (local_runtime/sqs/moto_patches.py), a long poll gives it up while waiting.
        while len(batch) < self.batch_size and not self._stop.is_set():
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            for message in response.get("Messages", []):
                batch[message["MessageId"]] = message   # a re-received message keeps its newest receipt handle
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = max(0, min(20, int(remaining)))
            if wait == 0:
                self._stop.wait(min(remaining, 0.05))
        return list(batch.values())

    def _record(self, message: dict) -> dict:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": lambda_message_attributes(message.get("MessageAttributes") or {}),
            "md5OfBody": message.get("MD5OfBody"),
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record.update({"eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": self.region})
        return record

    def _delete(self, messages: list[dict]) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start:start + MAX_RECEIVE]
            result = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in result.get("Failed", []):
                logger.warning("%r: could not delete message %s: %s %s", self,
                               chunk[int(failure["Id"])]["MessageId"], failure.get("Code"), failure.get("Message"))

    def _after_failure(self, messages: list[dict]) -> None:
        self._local.failed = True
        if self.clock_scale != 1:
            self._change_visibility(messages, self._scaled_visibility())

    def _change_visibility(self, messages: list[dict], seconds: int) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start:start + MAX_RECEIVE]
            result = self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                         for i, m in enumerate(chunk)],
            )
            for failure in result.get("Failed", []):
                logger.warning("%r: could not change the visibility of %s: %s", self,
                               chunk[int(failure["Id"])]["MessageId"], failure.get("Message"))

    def _warn_if_failures_ignored(self, payload: bytes) -> None:
        if self._warned_ignored_failures:
            return
        try:
            response = json.loads(payload) if payload else None
        except ValueError:
            return
        if isinstance(response, dict) and response.get("batchItemFailures"):
            with self._lock:
                if self._warned_ignored_failures:
                    return
                self._warned_ignored_failures = True
            logger.warning("%r: the function returned batchItemFailures but the mapping's FunctionResponseTypes lacks "
                           "ReportBatchItemFailures: the response is ignored and the whole batch is deleted, as on "
                           "AWS", self)

    # ----- threads ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.enabled:
            logger.info("%r is disabled; not polling", self)
            return
        if self._threads:
            return
        self._stop.clear()
        for i in range(self.pollers):
            thread = threading.Thread(target=self._run, name=f"sqs-poller-{queue_name_from_arn(self.queue_arn)}-{i}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._local.failed = False
            try:
                self.poll_once()
                if self._local.failed:
                    self._stop.wait(FAILURE_PAUSE_SECONDS)
            except Exception:
                logger.exception("%r: poll cycle failed; retrying", self)
                self._stop.wait(ERROR_BACKOFF_SECONDS)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and join the poller threads (a running invoke is waited for up to ``timeout``)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("%r: poller %s did not stop within %.0f s", self, thread.name, timeout)
        self._threads = [t for t in self._threads if t.is_alive()]
