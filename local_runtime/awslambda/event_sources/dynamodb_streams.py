"""DynamoDB Streams event source mappings: our poller delivers stream records to Lambda, as the Lambda service does.

moto records every table write in the table's stream (one shard); this poller reads it with GetShardIterator /
GetRecords through the endpoint. moto never owns the mapping. One ``DynamoDbStreamSource`` per
``AWS::Lambda::EventSourceMapping`` whose ``EventSourceArn`` is a table stream (SAM ``Events: Type: DynamoDB``).
Semantics, as AWS documents them:

* ``StartingPosition`` LATEST (records written after the mapping started) or TRIM_HORIZON (all records kept);
* batches of up to ``BatchSize`` (default 100) records, gathered over ``MaximumBatchingWindowInSeconds``, one batch
  in flight per shard, records in order; event ``{"Records": [...]}`` with ``eventID``, ``eventName``
  (INSERT/MODIFY/REMOVE), ``eventVersion``, ``eventSource: aws:dynamodb``, ``awsRegion``, ``eventSourceARN`` (the
  stream ARN) and ``dynamodb`` (``Keys``, ``NewImage``/``OldImage`` per the stream view type, ``SequenceNumber``,
  ``SizeBytes``, ``StreamViewType``, ``ApproximateCreationDateTime`` in epoch seconds);
* ``FilterCriteria.Filters[].Pattern`` (event_patterns.py): records that match no filter are dropped unseen;
* a function error, or an invalid ``batchItemFailures`` answer, retries the whole batch; with
  ``ReportBatchItemFailures`` a valid answer checkpoints before the lowest failed ``SequenceNumber`` and retries
  from there; ``BisectBatchOnFunctionError`` splits a failing batch in two (a split is not a retry);
  ``MaximumRetryAttempts`` (-1 = until the record expires) and ``MaximumRecordAgeInSeconds`` end the retries: the
  batch is skipped and, with ``DestinationConfig.OnFailure`` (SQS queue or SNS topic), described there in the
  ``DDBStreamBatchInfo`` record Lambda sends.

Differences: records never expire (moto keeps them all), one shard only, no tumbling windows, no
``ParallelizationFactor``.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import logging
import threading
import time
import uuid
from typing import Any, Callable

from local_runtime.awslambda.interface import Invoke
from local_runtime.cfn import cfn_bool
from local_runtime.event_patterns import matches_parsed, parse_pattern
from local_runtime.awslambda.event_sources.sqs import InvalidBatchResponse, failed_item_ids

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25          # Lambda polls a stream shard about four times a second
RETRY_PAUSE_SECONDS = 0.05


def is_stream_arn(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:") and ":dynamodb:" in arn and "/stream/" in arn


def table_name_of(stream_arn: str) -> str:
    return stream_arn.split(":", 5)[5].split("/")[1]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, _dt.datetime):
        return round(value.timestamp(), 3)
    return value


class DynamoDbStreamSource:
    def __init__(self, mapping: dict, dynamodb_client: Any, streams_client: Any, invoke: Invoke,
                 on_failure: Callable[[str, str], Any] | None = None, clock_scale: float = 1.0,
                 region: str = "us-east-1", poll_seconds: float = POLL_SECONDS) -> None:
        self.mapping = mapping
        self.function: str = mapping["FunctionName"]
        self.configured_arn: str = mapping["EventSourceArn"]
        self.table = table_name_of(self.configured_arn)
        self.batch_size = int(mapping.get("BatchSize") or 100)
        self.batching_window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        self.starting_position = mapping.get("StartingPosition") or "LATEST"
        self.report_item_failures = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        retries = mapping.get("MaximumRetryAttempts")
        self.max_retries = int(retries) if retries is not None else -1
        self.max_age = int(mapping.get("MaximumRecordAgeInSeconds") or -1)
        self.bisect = mapping.get("BisectBatchOnFunctionError") in (True, "true", "True")
        self.on_failure_arn = (((mapping.get("DestinationConfig") or {}).get("OnFailure") or {})
                               .get("Destination"))
        self.filters = [parse_pattern(f.get("Pattern")) for f in
                        ((mapping.get("FilterCriteria") or {}).get("Filters") or [])]
        self.enabled = cfn_bool(mapping.get("Enabled"), default=True)
        self.dynamodb = dynamodb_client
        self.streams = streams_client
        self.invoke = invoke
        self.on_failure = on_failure
        self.clock_scale = clock_scale
        self.region = region
        self.poll_seconds = poll_seconds
        self.stream_arn: str | None = None
        self.shard_id: str | None = None
        self._iterator: str | None = None
        self._buffer: list[dict] = []
        self._attempts = 0
        self._limit = self.batch_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.invocations = 0

    def __repr__(self) -> str:
        return f"DynamoDbStreamSource({self.table} -> {self.function})"

    # -- position -------------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Find the table's stream and take a shard iterator at ``StartingPosition`` (done by start())."""
        table = self.dynamodb.describe_table(TableName=self.table)["Table"]
        self.stream_arn = table.get("LatestStreamArn")
        if not self.stream_arn:
            raise ValueError(f"table {self.table} has no stream (StreamSpecification)")
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self.shard_id = shards[0]["ShardId"]
        kind = "TRIM_HORIZON" if self.starting_position == "TRIM_HORIZON" else "LATEST"
        self._iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard_id,
                                                         ShardIteratorType=kind)["ShardIterator"]

    def _fetch(self) -> None:
        deadline = time.monotonic() + self.batching_window * self.clock_scale
        while len(self._buffer) < self._limit and not self._stop.is_set():
            response = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
            self._iterator = response.get("NextShardIterator") or self._iterator
            self._buffer.extend(self._record(r) for r in response.get("Records", []))
            if time.monotonic() >= deadline:
                return
            self._stop.wait(min(self.poll_seconds, max(0.0, deadline - time.monotonic())))

    def _record(self, raw: dict) -> dict:
        record = _json_ready(raw)
        record["awsRegion"] = self.region
        record["eventSourceARN"] = self.stream_arn
        return record

    # -- one cycle ------------------------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Fetch and deliver at most one batch; returns the number of records delivered."""
        if self._iterator is None:
            self.open()
        self._fetch()
        if not self._buffer:
            return 0
        batch = self._buffer[:self._limit]
        if self.max_age >= 0:
            oldest = batch[0]["dynamodb"].get("ApproximateCreationDateTime") or time.time()
            if time.time() - oldest > self.max_age:
                self._give_up(batch, "RecordAgeExceeded", None)
                return 0
        delivered = [r for r in batch if not self.filters or any(matches_parsed(f, r) for f in self.filters)]
        if not delivered:
            del self._buffer[:len(batch)]
            return 0
        ids = [r["dynamodb"]["SequenceNumber"] for r in delivered]
        self.invocations += 1
        try:
            payload, function_error = self.invoke(self.function, {"Records": delivered})
        except Exception as exc:
            logger.warning("%r: invoke failed: %s: %s", self, type(exc).__name__, exc)
            payload, function_error = b"", "Unhandled"
        failed_from = None  # index in batch from which to retry; None = success
        if function_error:
            failed_from = 0
        elif self.report_item_failures:
            try:
                failed = failed_item_ids(payload, ids)   # for streams the identifiers are sequence numbers
            except InvalidBatchResponse as exc:
                logger.warning("%r: invalid partial batch response, the whole batch failed: %s", self, exc)
                failed = set(ids)
                failed_from = 0
            if failed and failed_from is None:
                lowest = min(failed, key=int)
                failed_from = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == lowest)
        if failed_from is None:
            del self._buffer[:len(batch)]
            self._attempts = 0
            self._limit = self.batch_size
            return len(delivered)
        del self._buffer[:failed_from]   # checkpoint: records before the lowest failure are done
        retry = batch[failed_from:]
        if self.bisect and function_error and len(retry) > 1:
            self._limit = max(1, len(retry) // 2)
            return len(delivered)
        self._attempts += 1
        if 0 <= self.max_retries < self._attempts:
            self._give_up(retry, "RetryAttemptsExhausted", function_error)
        else:
            self._stop.wait(RETRY_PAUSE_SECONDS)
        return len(delivered)

    def _give_up(self, batch: list[dict], condition: str, function_error: str | None) -> None:
        del self._buffer[:len(batch)]
        attempts = self._attempts
        self._attempts = 0
        self._limit = self.batch_size
        logger.warning("%r: %s: skipping %d records (%s..%s)", self, condition, len(batch),
                       batch[0]["dynamodb"]["SequenceNumber"], batch[-1]["dynamodb"]["SequenceNumber"])
        if not self.on_failure_arn or self.on_failure is None:
            return

        def iso(record: dict) -> str:
            seconds = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
            return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        now = _dt.datetime.now(_dt.timezone.utc)
        document = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function,
                               "condition": condition, "approximateInvokeCount": attempts + 1},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": function_error or ""},
            "version": "1.0",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id, "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso(batch[0]), "approximateArrivalOfLastRecord": iso(batch[-1]),
                "batchSize": len(batch), "streamArn": self.stream_arn,
            },
        }
        try:
            self.on_failure(self.on_failure_arn, json.dumps(document))
        except Exception as exc:
            logger.warning("%r: on-failure destination %s failed: %s", self, self.on_failure_arn, exc)

    # -- thread ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self.open()  # the LATEST position is taken now, before start() returns
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"ddb-stream-{self.table}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(self.poll_seconds)
            except Exception:
                logger.exception("%r: poll cycle failed; retrying", self)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
