"""Distributed Map, run inline: ``ItemReader`` (S3), ``ItemBatcher`` and ``ResultWriter`` (S3), JSONPath mode.

A Map state whose ``ItemProcessor.ProcessorConfig.Mode`` is ``DISTRIBUTED`` runs its iterations in this process, as
an inline Map does (``Branch.run_map``); these fields change where the items come from, what each iteration gets
and what the state returns:

* ``ItemReader`` reads the items through the engine's AWS clients (integrations/aws.py ``aws_call``):
  ``arn:aws:states:::s3:getObject`` with ``ReaderConfig.InputType`` ``JSON`` (an array), ``JSONL`` (a value per
  line) or ``CSV`` (``CSVHeaderLocation`` ``FIRST_ROW`` or ``GIVEN`` with ``CSVHeaders``, ``CSVDelimiter``; every
  row becomes an object of strings keyed by the headers), and ``arn:aws:states:::s3:listObjectsV2`` (one item per
  object: ``Etag``, ``Key``, ``LastModified`` in epoch seconds, ``Size``, ``StorageClass``; every page is read).
  ``MaxItems``/``MaxItemsPath`` cap the count. Any failure to read or parse is ``States.ItemReaderFailed``.
* ``ItemBatcher``: ``ItemSelector`` is applied to each item first, then the items are grouped; each iteration gets
  ``{"BatchInput": ..., "Items": [...]}`` (``BatchInput`` only when the field is set). A batch closes at
  ``MaxItemsPerBatch(Path)`` items or before it would exceed ``MaxInputBytesPerBatch(Path)`` bytes of compact JSON
  (an item larger than the limit gets a batch of its own).
* ``ResultWriter`` with ``arn:aws:states:::s3:putObject`` (``Bucket``, ``Prefix``) writes
  ``<Prefix>/<map run id>/SUCCEEDED_0.json``, ``FAILED_0.json``, ``PENDING_0.json`` (each only when it has entries)
  and ``manifest.json``; the state's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``. The
  files are also written when the run fails on the tolerated failure threshold. A failed write is
  ``States.ResultWriterFailed``.

``definition_problems`` is what CreateStateMachine rejects: these fields on an INLINE Map or in a JSONata state,
resources, input types, reader/batcher/writer fields this module does not implement (``WriterConfig``,
``ItemsPointer``, ``MANIFEST``/``PARQUET`` inputs, ...).
"""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any

from . import failures
from .failures import StatesError
from .integrations.aws import aws_call
from .paths import compile_path, select
from .payloads import dumps
from .templates import Template
from .timefmt import iso

FIELDS = ("ItemReader", "ItemBatcher", "ResultWriter")
GET_OBJECT = "arn:aws:states:::s3:getObject"
LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
PUT_OBJECT = "arn:aws:states:::s3:putObject"
INPUT_TYPES = ("JSON", "JSONL", "CSV")
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
_READER_FIELDS = {"Resource", "Parameters", "ReaderConfig"}
_READER_CONFIG_FIELDS = {"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath"}
_BATCHER_LIMITS = ("MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")
_WRITER_FIELDS = {"Resource", "Parameters"}
SCHEMA = "SCHEMA_VALIDATION_FAILED"


# -- definition checks ------------------------------------------------------------------------------------------

def definition_problems(spec: dict, where: str, language: str) -> list[tuple[str, str, str]]:
    """(code, message, location) for the distributed fields of a Map state; empty when it has none."""
    present = [f for f in FIELDS if f in spec]
    if not present:
        return []
    if language == "JSONata":
        return [(SCHEMA, f"The field '{f}' is not supported in JSONata states by the local engine", f"{where}/{f}")
                for f in present]
    out: list[tuple[str, str, str]] = []
    processor = spec.get("ItemProcessor")
    config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
    mode = config.get("Mode", "INLINE") if isinstance(config, dict) else "INLINE"
    if mode != "DISTRIBUTED":
        return [(SCHEMA, f"The field '{f}' is only supported by a Map state whose ItemProcessor.ProcessorConfig.Mode "
                 f"is DISTRIBUTED", f"{where}/{f}") for f in present]
    if "ItemReader" in spec:
        out += _reader_problems(spec["ItemReader"], f"{where}/ItemReader")
    if "ItemBatcher" in spec:
        out += _batcher_problems(spec["ItemBatcher"], f"{where}/ItemBatcher")
    if "ResultWriter" in spec:
        out += _writer_problems(spec["ResultWriter"], f"{where}/ResultWriter")
    return out


def _unknown(value: dict, allowed: set, where: str, what: str) -> list[tuple[str, str, str]]:
    return [(SCHEMA, f"The field '{k}' is not supported in {what} by the local engine", f"{where}/{k}")
            for k in value if k not in allowed]


def _check_path(value: Any, field: str, where: str) -> list[tuple[str, str, str]]:
    try:
        compile_path(value)
    except Exception:  # PathSyntaxError, TypeError
        return [(SCHEMA, f"The value for the field '{field}' must be a valid JSONPath", f"{where}/{field}")]
    return []


def _count_problems(value: dict, field: str, where: str, minimum: int) -> list[tuple[str, str, str]]:
    out = []
    if field in value and f"{field}Path" in value:
        out.append((SCHEMA, f"Only one of '{field}' and '{field}Path' can be set", where))
    if field in value and (type(value[field]) is not int or value[field] < minimum):
        out.append((SCHEMA, f"The field '{field}' must be an integer >= {minimum}", f"{where}/{field}"))
    if f"{field}Path" in value:
        out += _check_path(value[f"{field}Path"], f"{field}Path", where)
    return out


def _reader_problems(reader: Any, where: str) -> list[tuple[str, str, str]]:
    if not isinstance(reader, dict):
        return [(SCHEMA, "The field 'ItemReader' must be an object", where)]
    out = _unknown(reader, _READER_FIELDS, where, "ItemReader")
    resource = reader.get("Resource")
    if resource not in (GET_OBJECT, LIST_OBJECTS):
        out.append((SCHEMA, f"The ItemReader Resource must be one of [{GET_OBJECT}, {LIST_OBJECTS}] (the local "
                    f"engine reads items from S3 only)", f"{where}/Resource"))
    if not isinstance(reader.get("Parameters"), dict):
        out.append((SCHEMA, "The field 'Parameters' of ItemReader must be an object", f"{where}/Parameters"))
    config = reader.get("ReaderConfig", {})
    if not isinstance(config, dict):
        return out + [(SCHEMA, "The field 'ReaderConfig' must be an object", f"{where}/ReaderConfig")]
    cwhere = f"{where}/ReaderConfig"
    out += _unknown(config, _READER_CONFIG_FIELDS, cwhere, "ReaderConfig")
    out += _count_problems(config, "MaxItems", cwhere, 0)
    input_type = config.get("InputType")
    if resource == LIST_OBJECTS:
        for field in ("InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter"):
            if field in config:
                out.append((SCHEMA, f"The field '{field}' is not supported with {LIST_OBJECTS}", f"{cwhere}/{field}"))
        return out
    if input_type is not None and input_type not in INPUT_TYPES:
        out.append((SCHEMA, f"The field 'InputType' should have one of these values: {list(INPUT_TYPES)} (the local "
                    f"engine does not read MANIFEST or PARQUET inputs)", f"{cwhere}/InputType"))
    if input_type != "CSV":
        for field in ("CSVHeaderLocation", "CSVHeaders", "CSVDelimiter"):
            if field in config:
                out.append((SCHEMA, f"The field '{field}' requires InputType CSV", f"{cwhere}/{field}"))
        return out
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    if location not in ("FIRST_ROW", "GIVEN"):
        out.append((SCHEMA, "The field 'CSVHeaderLocation' should have one of these values: [FIRST_ROW, GIVEN]",
                    f"{cwhere}/CSVHeaderLocation"))
    headers = config.get("CSVHeaders")
    if location == "GIVEN" and (not isinstance(headers, list) or not headers
                                or not all(isinstance(h, str) for h in headers)):
        out.append((SCHEMA, "CSVHeaderLocation GIVEN needs 'CSVHeaders', a non-empty array of strings",
                    f"{cwhere}/CSVHeaders"))
    if location == "FIRST_ROW" and headers is not None:
        out.append((SCHEMA, "The field 'CSVHeaders' is only allowed with CSVHeaderLocation GIVEN",
                    f"{cwhere}/CSVHeaders"))
    if "CSVDelimiter" in config and config["CSVDelimiter"] not in DELIMITERS:
        out.append((SCHEMA, f"The field 'CSVDelimiter' should have one of these values: {list(DELIMITERS)}",
                    f"{cwhere}/CSVDelimiter"))
    return out


def _batcher_problems(batcher: Any, where: str) -> list[tuple[str, str, str]]:
    if not isinstance(batcher, dict):
        return [(SCHEMA, "The field 'ItemBatcher' must be an object", where)]
    out = _unknown(batcher, set(_BATCHER_LIMITS) | {"BatchInput"}, where, "ItemBatcher")
    if not any(f in batcher for f in _BATCHER_LIMITS):
        out.append((SCHEMA, "ItemBatcher needs at least one of [MaxItemsPerBatch, MaxItemsPerBatchPath, "
                    "MaxInputBytesPerBatch, MaxInputBytesPerBatchPath]", where))
    out += _count_problems(batcher, "MaxItemsPerBatch", where, 1)
    out += _count_problems(batcher, "MaxInputBytesPerBatch", where, 1)
    return out


def _writer_problems(writer: Any, where: str) -> list[tuple[str, str, str]]:
    if not isinstance(writer, dict):
        return [(SCHEMA, "The field 'ResultWriter' must be an object", where)]
    out = _unknown(writer, _WRITER_FIELDS, where, "ResultWriter")
    if writer.get("Resource") != PUT_OBJECT:
        out.append((SCHEMA, f"The ResultWriter Resource must be {PUT_OBJECT}", f"{where}/Resource"))
    params = writer.get("Parameters")
    if not isinstance(params, dict) or not ("Bucket" in params or "Bucket.$" in params):
        out.append((SCHEMA, "The ResultWriter Parameters must be an object with 'Bucket' (and optionally 'Prefix')",
                    f"{where}/Parameters"))
    return out


# -- run time ---------------------------------------------------------------------------------------------------

def _positive_int(branch, effective: Any, path, field: str, minimum: int) -> int:
    value = select(path, effective, field, branch.context)
    if type(value) is not int or value < minimum:
        raise StatesError(failures.RUNTIME, f"{field} must resolve to an integer >= {minimum}. Found: {dumps(value)}")
    return value


def _max_items(branch, effective: Any, path) -> int | None:
    """MaxItemsPath as AWS reads it (AWS-recorded): an integer, or text that is one ("2"); 0 means no limit; a
    negative one fails the read; anything else (1.5, "x") is a States.Runtime failure naming the value."""
    value = select(path, effective, "MaxItemsPath", branch.context)
    text = value if isinstance(value, str) else dumps(value)
    if not re.fullmatch(r"-?\d+", text):
        raise StatesError(failures.RUNTIME, f'The MaxItemsPath field refers to value "{text}" which is not a valid '
                                            f"integer: {path.text}")
    if int(text) < 0:
        raise StatesError(failures.ITEM_READER_FAILED, "field MaxItems must be positive")
    return int(text) or None


class ItemReader:
    __slots__ = ("resource", "parameters", "input_type", "header_location", "headers", "delimiter", "max_items",
                 "max_items_path")

    def __init__(self, spec: dict) -> None:
        config = spec.get("ReaderConfig") or {}
        self.resource = spec["Resource"]
        self.parameters = Template(spec.get("Parameters") or {})
        self.input_type = config.get("InputType", "JSON")
        self.header_location = config.get("CSVHeaderLocation", "FIRST_ROW")
        self.headers = config.get("CSVHeaders")
        self.delimiter = DELIMITERS[config.get("CSVDelimiter", "COMMA")]
        self.max_items = config.get("MaxItems") or None  # 0: no limit
        self.max_items_path = compile_path(config["MaxItemsPath"]) if "MaxItemsPath" in config else None

    def read(self, branch, effective: Any) -> list:
        params = self.parameters.resolve(effective, branch.context)
        limit = self.max_items
        if self.max_items_path is not None:
            limit = _max_items(branch, effective, self.max_items_path)
        integrations = branch.env.integrations
        try:
            if self.resource == LIST_OBJECTS:
                return self._list(integrations, params, limit)
            response = aws_call(integrations, "s3", "GetObject", params, "S3", "Amazon S3")
            text = response["Body"].read().decode("utf-8-sig")
        except StatesError as exc:
            raise StatesError(failures.ITEM_READER_FAILED,
                              f"Failed to read the items with {self.resource}: {exc.error}: {exc.cause}") from None
        except UnicodeDecodeError as exc:
            raise StatesError(failures.ITEM_READER_FAILED, f"The S3 object is not UTF-8 text: {exc}") from None
        items = self._parse(text, params)
        return items[:limit] if limit else items

    def _list(self, integrations, params: dict, limit: int | None) -> list:
        items: list = []
        request = dict(params)
        while True:
            page = aws_call(integrations, "s3", "ListObjectsV2", request, "S3", "Amazon S3")
            for obj in page.get("Contents", ()):
                modified = obj.get("LastModified")
                items.append({"Etag": obj.get("ETag"), "Key": obj.get("Key"),
                              "LastModified": int(modified.timestamp()) if modified is not None else None,
                              "Size": obj.get("Size"), "StorageClass": obj.get("StorageClass", "STANDARD")})
                if limit and len(items) >= limit:
                    return items
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return items
            request["ContinuationToken"] = token

    def _parse(self, text: str, params: dict) -> list:
        where = f"s3://{params.get('Bucket')}/{params.get('Key')}"
        if self.input_type == "JSON":
            try:
                items = json.loads(text)
            except ValueError as exc:
                raise StatesError(failures.ITEM_READER_FAILED, f"The object {where} is not valid JSON: {exc}") from None
            if not isinstance(items, list):
                raise StatesError(failures.ITEM_READER_FAILED,
                                  f"The object {where} must hold a JSON array; found a {type(items).__name__}")
            return items
        if self.input_type == "JSONL":
            items = []
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    items.append(json.loads(line))
                except ValueError as exc:
                    raise StatesError(failures.ITEM_READER_FAILED,
                                      f"Line {number} of {where} is not valid JSON: {exc}") from None
            return items
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=self.delimiter) if row]
        if self.header_location == "FIRST_ROW":
            if not rows:
                raise StatesError(failures.ITEM_READER_FAILED, f"The CSV object {where} has no header row")
            headers, rows = rows[0], rows[1:]
        else:
            headers = self.headers
        items = []
        for number, row in enumerate(rows, 2 if self.header_location == "FIRST_ROW" else 1):
            if len(row) != len(headers):
                raise StatesError(failures.ITEM_READER_FAILED,
                                  f"Row {number} of {where} has {len(row)} fields; the header has {len(headers)}")
            items.append(dict(zip(headers, row)))
        return items


def _size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))


class ItemBatcher:
    __slots__ = ("max_items", "max_items_path", "max_bytes", "max_bytes_path", "batch_input", "has_batch_input")

    def __init__(self, spec: dict) -> None:
        self.max_items = spec.get("MaxItemsPerBatch")
        self.max_items_path = compile_path(spec["MaxItemsPerBatchPath"]) if "MaxItemsPerBatchPath" in spec else None
        self.max_bytes = spec.get("MaxInputBytesPerBatch")
        self.max_bytes_path = (compile_path(spec["MaxInputBytesPerBatchPath"])
                               if "MaxInputBytesPerBatchPath" in spec else None)
        self.has_batch_input = "BatchInput" in spec
        self.batch_input = Template(spec["BatchInput"]) if self.has_batch_input else None

    def batches(self, branch, effective: Any, items: list) -> list[dict]:
        max_items = self.max_items
        if self.max_items_path is not None:
            max_items = _positive_int(branch, effective, self.max_items_path, "MaxItemsPerBatchPath", 1)
        max_bytes = self.max_bytes
        if self.max_bytes_path is not None:
            max_bytes = _positive_int(branch, effective, self.max_bytes_path, "MaxInputBytesPerBatchPath", 1)
        shell: dict = {}
        if self.has_batch_input:
            shell["BatchInput"] = self.batch_input.resolve(effective, branch.context)
        empty_size = _size({**shell, "Items": []})
        out: list[dict] = []
        current: list = []
        size = empty_size
        for item in items:
            item_size = _size(item)
            grown = size + item_size + (1 if current else 0)
            if current and ((max_items and len(current) >= max_items) or (max_bytes and grown > max_bytes)):
                out.append({**shell, "Items": current})
                current, size = [], empty_size
                grown = size + item_size
            current.append(item)
            size = grown
        if current:
            out.append({**shell, "Items": current})
        return out


class ResultWriter:
    __slots__ = ("parameters",)

    def __init__(self, spec: dict) -> None:
        self.parameters = Template(spec.get("Parameters") or {})

    def write(self, branch, effective: Any, run: "MapRun") -> dict:
        params = self.parameters.resolve(effective, branch.context)
        bucket = params.get("Bucket")
        prefix = params.get("Prefix") or ""
        if not isinstance(bucket, str) or not isinstance(prefix, str):
            raise StatesError(failures.RESULT_WRITER_FAILED, "The ResultWriter Bucket and Prefix must be strings")
        base = f"{prefix.rstrip('/')}/{run.run_id}/" if prefix else f"{run.run_id}/"
        files: dict[str, list] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        for status, entries in run.entries().items():
            if not entries:
                continue
            key = f"{base}{status}_0.json"
            body = dumps(entries).encode("utf-8")
            self._put(branch, bucket, key, body)
            files[status].append({"Key": key, "Size": len(body)})
        manifest_key = f"{base}manifest.json"
        manifest = {"DestinationBucket": bucket, "MapRunArn": run.arn, "ResultFiles": files}
        self._put(branch, bucket, manifest_key, json.dumps(manifest, separators=(",", ":")).encode("utf-8"))
        return {"MapRunArn": run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}

    @staticmethod
    def _put(branch, bucket: str, key: str, body: bytes) -> None:
        try:
            aws_call(branch.env.integrations, "s3", "PutObject",
                     {"Bucket": bucket, "Key": key, "Body": body, "ContentType": "application/json"}, "S3",
                     "Amazon S3")
        except StatesError as exc:
            raise StatesError(failures.RESULT_WRITER_FAILED,
                              f"Failed to write s3://{bucket}/{key}: {exc.error}: {exc.cause}") from None


class MapRun:
    """One run of a distributed Map: its ARN, the child inputs and, once the iterations ended, their outcomes.

    ``Branch.run_map`` sees this object as the Map state (attributes it does not define come from the state) and
    calls ``map_run_finished`` with every iteration's outcome. The ItemSelector was already applied to the inputs.
    """

    def __init__(self, state, branch, inputs: list) -> None:
        execution = branch.execution
        parts = execution.state_machine_arn.split(":")
        region, account, machine = parts[3], parts[4], parts[6] if len(parts) > 6 else "machine"
        label = getattr(state, "label", None) or state.name
        self.state = state
        self.run_id = str(uuid.uuid4())
        self.arn = f"arn:aws:states:{region}:{account}:mapRun:{machine}/{label}:{self.run_id}"
        self.child_machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine}/{label}"
        self.child_execution_prefix = f"arn:aws:states:{region}:{account}:execution:{machine}/{label}:"
        self.inputs = inputs
        self.clock = branch.clock
        self.started = self.clock.now()
        self.stopped = self.started
        self.outcome: tuple[list, list, list] | None = None
        self.item_selector = None  # applied before the run (the batcher groups selected items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)

    def map_run_finished(self, results: list, errors: list, succeeded: list) -> None:
        self.stopped = self.clock.now()
        self.outcome = (results, errors, succeeded)

    def entries(self) -> dict[str, list]:
        """The child executions by status, as ResultWriter exports them."""
        results, errors, succeeded = self.outcome or ([None] * len(self.inputs), [], [])
        failed = {index: exc for index, exc in errors}
        done = set(succeeded)
        out: dict[str, list] = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
        for index, child_input in enumerate(self.inputs):
            entry = {"Input": dumps(child_input), "InputDetails": {"Included": True}}
            if index in done or index in failed:
                name = str(uuid.uuid5(uuid.UUID(self.run_id), str(index)))
                entry = {"ExecutionArn": self.child_execution_prefix + name, "Name": name, **entry,
                         "StartDate": iso(self.started), "StateMachineArn": self.child_machine_arn,
                         "StopDate": iso(self.stopped)}
            if index in done:
                entry.update({"Output": dumps(results[index]), "OutputDetails": {"Included": True},
                              "Status": "SUCCEEDED"})
                out["SUCCEEDED"].append(entry)
            elif index in failed:
                entry.update({"Error": failed[index].error, "Cause": failed[index].cause, "Status": "FAILED"})
                out["FAILED"].append(entry)
            else:
                entry["Status"] = "PENDING"
                out["PENDING"].append(entry)
        return out


class Distributed:
    """The distributed fields of one Map state (None of them: no instance, the Map runs as before)."""

    __slots__ = ("reader", "batcher", "writer")

    def __init__(self, spec: dict) -> None:
        self.reader = ItemReader(spec["ItemReader"]) if "ItemReader" in spec else None
        self.batcher = ItemBatcher(spec["ItemBatcher"]) if "ItemBatcher" in spec else None
        self.writer = ResultWriter(spec["ResultWriter"]) if "ResultWriter" in spec else None

    @classmethod
    def from_spec(cls, spec: dict) -> "Distributed | None":
        return cls(spec) if any(f in spec for f in FIELDS) else None

    def run(self, state, branch, effective: Any, items: list, concurrency: int) -> Any:
        if self.batcher is None and self.writer is None:
            return branch.run_map(state, effective, items, concurrency)
        inputs = _select_items(state, branch, effective, items)
        if self.batcher is not None:
            inputs = self.batcher.batches(branch, effective, inputs)
        run = MapRun(state, branch, inputs)
        try:
            results = branch.run_map(run, effective, inputs, concurrency)
        except StatesError:
            if self.writer is not None and run.outcome is not None:
                self.writer.write(branch, effective, run)  # the files of a failed run are exported too
            raise
        if self.writer is None:
            return results
        return self.writer.write(branch, effective, run)


def _select_items(state, branch, effective: Any, items: list) -> list:
    """``ItemSelector`` applied to each item (``$$.Map.Item`` set), as an iteration would before running."""
    selector = state.item_selector
    if selector is None:
        return list(items)
    saved = branch.map_item
    out = []
    try:
        for index, item in enumerate(items):
            branch.map_item = {"Index": index, "Value": item}
            out.append(selector.resolve(effective, branch.context))
    finally:
        branch.map_item = saved
    return out


__all__ = ["Distributed", "definition_problems", "FIELDS"]
