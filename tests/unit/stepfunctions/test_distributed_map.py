"""Distributed Map run inline: ItemReader (S3 getObject / listObjectsV2), ItemBatcher, ResultWriter, against moto."""
import json

import pytest

from local_runtime import errors
from local_runtime.stepfunctions.parser import parse_definition

from .helpers import fn_arn, moto_clients, output, run

BUCKET = "data"
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
ECHO = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture()
def aws():
    with moto_clients() as factory:
        factory("s3").create_bucket(Bucket=BUCKET)
        yield factory


def put(aws, key, body):
    aws("s3").put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)


def get_json(aws, key):
    return json.loads(aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def dmap(processor=ECHO, **fields):
    return {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True,
                                             "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, **processor},
                                             **fields}}}


def get_object(key, input_type, **config):
    return {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": input_type, **config},
            "Parameters": {"Bucket": BUCKET, "Key": key}}


# -- ItemReader -------------------------------------------------------------------------------------------------

def test_json_array_from_s3(aws):
    put(aws, "in/items.json", json.dumps([{"id": 1}, {"id": 2}, {"id": 3}]))
    definition = dmap(ItemReader=get_object("in/items.json", "JSON"))
    assert output(run(definition, {}, aws_client=aws)) == [{"id": 1}, {"id": 2}, {"id": 3}]


def test_json_reader_parameters_take_paths_and_max_items(aws):
    put(aws, "in/many.json", json.dumps(list(range(10))))
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON", "MaxItems": 4},
              "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}
    definition = dmap(ItemReader=reader)
    assert output(run(definition, {"bucket": BUCKET, "key": "in/many.json"}, aws_client=aws)) == [0, 1, 2, 3]


def test_max_items_path(aws):
    put(aws, "in/many.json", json.dumps(list(range(10))))
    reader = get_object("in/many.json", "JSON", MaxItemsPath="$.limit")
    assert output(run(dmap(ItemReader=reader), {"limit": 2}, aws_client=aws)) == [0, 1]


def test_max_items_path_values_as_aws_reads_them(aws):
    # AWS-recorded: MaxItemsPath to 0 or 100000001 reads every item, to "2" (text) two, to -1 fails the read
    # (States.ItemReaderFailed "field MaxItems must be positive"), to 1.5 fails the state with States.Runtime
    put(aws, "in/many.json", json.dumps(list(range(5))))
    definition = dmap(ItemReader=get_object("in/many.json", "JSON", MaxItemsPath="$.limit"))
    assert output(run(definition, {"limit": 0}, aws_client=aws)) == [0, 1, 2, 3, 4]
    assert output(run(definition, {"limit": 100000001}, aws_client=aws)) == [0, 1, 2, 3, 4]
    assert output(run(definition, {"limit": "2"}, aws_client=aws)) == [0, 1]
    failed = run(definition, {"limit": -1}, aws_client=aws)
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "States.ItemReaderFailed",
                                                          "field MaxItems must be positive")
    failed = run(definition, {"limit": 1.5}, aws_client=aws)
    assert (failed.status, failed.error, failed.cause) == (
        "FAILED", "States.Runtime", "An error occurred while executing the state 'M' (entered at the event id #2). "
        "The MaxItemsPath field refers to value \"1.5\" which is not a valid integer: $.limit")


def test_max_items_zero_means_no_limit(aws):
    # AWS accepts ReaderConfig.MaxItems 0 (AWS-recorded: every item is read)
    put(aws, "in/many.json", json.dumps(list(range(3))))
    definition = dmap(ItemReader=get_object("in/many.json", "JSON", MaxItems=0))
    assert output(run(definition, {}, aws_client=aws)) == [0, 1, 2]


def test_csv_first_row_headers_become_keys(aws):
    put(aws, "in/rows.csv", "id,name,qty\n1,apple,3\n2,\"pear, green\",5\n")
    definition = dmap(ItemReader=get_object("in/rows.csv", "CSV", CSVHeaderLocation="FIRST_ROW"))
    assert output(run(definition, {}, aws_client=aws)) == [
        {"id": "1", "name": "apple", "qty": "3"}, {"id": "2", "name": "pear, green", "qty": "5"}]


def test_csv_given_headers_and_delimiter(aws):
    put(aws, "in/rows.psv", "1|apple\n2|pear\n")
    reader = get_object("in/rows.psv", "CSV", CSVHeaderLocation="GIVEN", CSVHeaders=["id", "fruit"],
                        CSVDelimiter="PIPE")
    assert output(run(dmap(ItemReader=reader), {}, aws_client=aws)) == [
        {"id": "1", "fruit": "apple"}, {"id": "2", "fruit": "pear"}]


def test_jsonl_one_value_per_line(aws):
    put(aws, "in/items.jsonl", '{"a": 1}\n\n{"a": 2}\n"three"\n')
    definition = dmap(ItemReader=get_object("in/items.jsonl", "JSONL"))
    assert output(run(definition, {}, aws_client=aws)) == [{"a": 1}, {"a": 2}, "three"]


def test_list_objects_v2_items_are_object_metadata(aws):
    for key, body in (("img/a.jpg", "aaaa"), ("img/b.jpg", "bb"), ("other/c.txt", "c")):
        put(aws, key, body)
    listed = {o["Key"]: o for o in aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="img/")["Contents"]}
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": BUCKET, "Prefix": "img/"}}
    items = output(run(dmap(ItemReader=reader), {}, aws_client=aws))
    assert items == [{"Etag": listed[k]["ETag"], "Key": k, "LastModified": int(listed[k]["LastModified"].timestamp()),
                      "Size": size, "StorageClass": "STANDARD"} for k, size in (("img/a.jpg", 4), ("img/b.jpg", 2))]


def test_list_objects_v2_reads_every_page(aws):
    for i in range(5):
        put(aws, f"p/{i}", "x")
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2",
              "Parameters": {"Bucket": BUCKET, "Prefix": "p/", "MaxKeys": 2}}
    processor = {"StartAt": "K", "States": {"K": {"Type": "Pass", "Parameters": {"k.$": "$.Key"}, "End": True}}}
    assert output(run(dmap(processor, ItemReader=reader), {}, aws_client=aws)) == [{"k": f"p/{i}"} for i in range(5)]


def test_missing_object_is_item_reader_failed(aws):
    execution = run(dmap(ItemReader=get_object("nope.json", "JSON")), {}, aws_client=aws)
    assert (execution.status, execution.error) == ("FAILED", "States.ItemReaderFailed")
    assert "NoSuchKey" in execution.cause


def test_item_reader_failed_can_be_caught(aws):
    put(aws, "in/obj.json", '{"not": "an array"}')
    definition = {"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"ProcessorConfig": DISTRIBUTED, **ECHO},
              "ItemReader": get_object("in/obj.json", "JSON"), "End": True,
              "Catch": [{"ErrorEquals": ["States.ItemReaderFailed"], "ResultPath": "$.error", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}}}
    result = output(run(definition, {}, aws_client=aws))
    assert result["error"]["Error"] == "States.ItemReaderFailed"
    assert "must hold a JSON array" in result["error"]["Cause"]


def test_csv_row_with_wrong_field_count_fails(aws):
    put(aws, "in/bad.csv", "a,b\n1,2\n3\n")
    execution = run(dmap(ItemReader=get_object("in/bad.csv", "CSV")), {}, aws_client=aws)
    assert (execution.status, execution.error) == ("FAILED", "States.ItemReaderFailed")
    assert "Row 3" in execution.cause


# -- ItemBatcher ------------------------------------------------------------------------------------------------

def test_batches_by_count_with_batch_input_and_item_selector(aws):
    definition = dmap(ItemsPath="$.items",
                      ItemSelector={"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                      ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run", "fixed": 1}})
    result = output(run(definition, {"items": ["a", "b", "c", "d", "e"], "run": "r1"}, aws_client=aws))
    batch_input = {"run": "r1", "fixed": 1}
    assert result == [
        {"BatchInput": batch_input, "Items": [{"n": "a", "i": 0}, {"n": "b", "i": 1}]},
        {"BatchInput": batch_input, "Items": [{"n": "c", "i": 2}, {"n": "d", "i": 3}]},
        {"BatchInput": batch_input, "Items": [{"n": "e", "i": 4}]}]


def test_batches_from_item_reader_without_batch_input(aws):
    put(aws, "in/items.json", json.dumps([1, 2, 3]))
    definition = dmap(ItemReader=get_object("in/items.json", "JSON"), ItemBatcher={"MaxItemsPerBatchPath": "$.size"})
    assert output(run(definition, {"size": 2}, aws_client=aws)) == [{"Items": [1, 2]}, {"Items": [3]}]


def test_batches_by_bytes():
    # {"Items":[]} is 12 bytes; "aaaa" is 6: two items make 12 + 6 + 1 + 6 = 25 bytes, a third would make 32
    definition = dmap(ItemBatcher={"MaxInputBytesPerBatch": 25})
    result = output(run(definition, ["aaaa"] * 5))
    assert result == [{"Items": ["aaaa", "aaaa"]}, {"Items": ["aaaa", "aaaa"]}, {"Items": ["aaaa"]}]
    assert all(len(json.dumps(b, separators=(",", ":")).encode()) <= 25 for b in result)


def test_each_iteration_receives_its_batch():
    seen = []

    def work(event):
        seen.append(event)
        return len(event["Items"])

    processor = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("work"), "End": True}}}
    definition = dmap(processor, ItemBatcher={"MaxItemsPerBatch": 3})
    assert output(run(definition, list(range(7)), functions={"work": work})) == [3, 3, 1]
    assert sorted(seen, key=lambda e: e["Items"][0]) == [{"Items": [0, 1, 2]}, {"Items": [3, 4, 5]},
                                                          {"Items": [6]}]


# -- ResultWriter -----------------------------------------------------------------------------------------------

WRITER = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET, "Prefix": "out"}}
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:machine"


def test_result_writer_exports_results_and_returns_details(aws):
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                                                  "End": True}}}
    definition = dmap(processor, ResultWriter=WRITER)
    result = output(run(definition, [{"n": 1}, {"n": 2}], aws_client=aws))
    run_arn = result["MapRunArn"]
    run_id = run_arn.rsplit(":", 1)[1]
    assert run_arn == f"arn:aws:states:us-east-1:123456789012:mapRun:machine/M:{run_id}"
    assert result["ResultWriterDetails"] == {"Bucket": BUCKET, "Key": f"out/{run_id}/manifest.json"}

    manifest = get_json(aws, f"out/{run_id}/manifest.json")
    succeeded_key = f"out/{run_id}/SUCCEEDED_0.json"
    size = aws("s3").head_object(Bucket=BUCKET, Key=succeeded_key)["ContentLength"]
    assert manifest == {"DestinationBucket": BUCKET, "MapRunArn": run_arn,
                        "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": succeeded_key,
                                                                                     "Size": size}]}}
    entries = get_json(aws, succeeded_key)
    assert [(json.loads(e["Input"]), json.loads(e["Output"]), e["Status"]) for e in entries] == [
        ({"n": 1}, {"doubled": 2}, "SUCCEEDED"), ({"n": 2}, {"doubled": 4}, "SUCCEEDED")]
    for entry in entries:
        assert entry["ExecutionArn"] == f"arn:aws:states:us-east-1:123456789012:execution:machine/M:{entry['Name']}"
        assert entry["StateMachineArn"] == f"{MACHINE}/M"
        assert entry["InputDetails"] == entry["OutputDetails"] == {"Included": True}
    keys = {o["Key"] for o in aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"]}
    assert keys == {f"out/{run_id}/manifest.json", succeeded_key}


def test_result_writer_with_tolerated_failures_writes_failed_file(aws):
    def work(event):
        if event % 2:
            raise ValueError(f"odd {event}")
        return event * 10

    processor = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("work"), "End": True}}}
    definition = dmap(processor, ResultWriter=WRITER, ToleratedFailureCount=2, MaxConcurrency=1)
    result = output(run(definition, [0, 1, 2, 3], functions={"work": work}, aws_client=aws))
    run_id = result["MapRunArn"].rsplit(":", 1)[1]
    manifest = get_json(aws, result["ResultWriterDetails"]["Key"])
    assert [f["Key"] for f in manifest["ResultFiles"]["FAILED"]] == [f"out/{run_id}/FAILED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    failed = get_json(aws, f"out/{run_id}/FAILED_0.json")
    assert [(e["Input"], e["Error"], e["Cause"] and json.loads(e["Cause"])["errorMessage"], e["Status"])
            for e in failed] == [("1", "ValueError", "odd 1", "FAILED"), ("3", "ValueError", "odd 3", "FAILED")]
    assert all("Output" not in e for e in failed)
    succeeded = get_json(aws, f"out/{run_id}/SUCCEEDED_0.json")
    assert [(e["Input"], e["Output"]) for e in succeeded] == [("0", "0"), ("2", "20")]


def test_threshold_exceeded_still_exports_with_pending_items(aws):
    def work(event):
        raise ValueError("always")

    processor = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("work"), "End": True}}}
    definition = dmap(processor, ResultWriter=WRITER, ToleratedFailureCount=1, MaxConcurrency=1)
    execution = run(definition, [10, 11, 12, 13], functions={"work": work}, aws_client=aws)
    assert (execution.status, execution.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    manifests = [o["Key"] for o in aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"]
                 if o["Key"].endswith("manifest.json")]
    assert len(manifests) == 1
    files = get_json(aws, manifests[0])["ResultFiles"]
    assert files["SUCCEEDED"] == [] and len(files["FAILED"]) == 1 and len(files["PENDING"]) == 1
    failed = get_json(aws, files["FAILED"][0]["Key"])
    pending = get_json(aws, files["PENDING"][0]["Key"])
    assert [e["Input"] for e in failed] == ["10", "11"]
    assert pending == [{"Input": "12", "InputDetails": {"Included": True}, "Status": "PENDING"},
                       {"Input": "13", "InputDetails": {"Included": True}, "Status": "PENDING"}]


def test_reader_batcher_and_writer_together(aws):
    put(aws, "in/rows.csv", "k,v\na,1\nb,2\nc,3\n")
    definition = dmap(ItemReader=get_object("in/rows.csv", "CSV"), ItemBatcher={"MaxItemsPerBatch": 2},
                      ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET}})
    result = output(run(definition, {}, aws_client=aws))
    run_id = result["MapRunArn"].rsplit(":", 1)[1]
    assert result["ResultWriterDetails"]["Key"] == f"{run_id}/manifest.json"
    entries = get_json(aws, f"{run_id}/SUCCEEDED_0.json")
    assert [json.loads(e["Output"]) for e in entries] == [
        {"Items": [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]}, {"Items": [{"k": "c", "v": "3"}]}]


def test_missing_bucket_is_result_writer_failed(aws):
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "missing", "Prefix": "x"}}
    execution = run(dmap(ResultWriter=writer), [1], aws_client=aws)
    assert (execution.status, execution.error) == ("FAILED", "States.ResultWriterFailed")
    assert "NoSuchBucket" in execution.cause


def test_distributed_map_without_the_fields_returns_results():
    assert output(run(dmap(ToleratedFailurePercentage=50), [1, 2])) == [1, 2]


# -- definitions ------------------------------------------------------------------------------------------------

def rejected(definition) -> str:
    with pytest.raises(errors.InvalidDefinition) as info:
        parse_definition(definition)
    return str(info.value)


def test_documented_reader_config_fields_pass_validation():
    reader = get_object("k.csv", "CSV", CSVHeaderLocation="GIVEN", CSVHeaders=["a"], CSVDelimiter="TAB", MaxItems=5)
    assert parse_definition(dmap(ItemReader=reader)).states["M"].distributed.reader.delimiter == "\t"


@pytest.mark.parametrize("fields, message", [
    ({"ItemBatcher": {"MaxItemsPerBatch": 2}},
     "SCHEMA_VALIDATION_FAILED: The field 'ItemBatcher' is only supported by a Map state whose "
     "ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED at /States/M/ItemBatcher"),
])
def test_fields_on_an_inline_map_are_rejected(fields, message):
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": ECHO, **fields}}}
    assert message in rejected(definition)


@pytest.mark.parametrize("fields, message", [
    ({"ItemReader": get_object("k", "PARQUET")}, "The field 'InputType' should have one of these values"),
    ({"ItemReader": get_object("k", "CSV", CSVHeaderLocation="GIVEN")}, "needs 'CSVHeaders'"),
    ({"ItemReader": get_object("k", "JSON", ItemsPointer="/a")},
     "The field 'ItemsPointer' is not supported in ReaderConfig"),
    ({"ItemReader": {"Resource": "arn:aws:states:::dynamodb:scan", "Parameters": {}}},
     "The ItemReader Resource must be one of"),
    ({"ItemBatcher": {"BatchInput": {}}}, "ItemBatcher needs at least one of"),
    ({"ItemBatcher": {"MaxItemsPerBatch": 0}}, "The field 'MaxItemsPerBatch' must be an integer >= 1"),
    ({"ResultWriter": {"WriterConfig": {"OutputType": "JSONL"}}},
     "The field 'WriterConfig' is not supported in ResultWriter"),
])
def test_unsupported_or_invalid_fields_are_rejected(fields, message):
    assert message in rejected(dmap(**fields))


def test_jsonata_distributed_fields_are_rejected():
    definition = dmap(ItemBatcher={"MaxItemsPerBatch": 2})
    definition["QueryLanguage"] = "JSONata"
    assert "The field 'ItemBatcher' is not supported in JSONata states by the local engine at " \
           "/States/M/ItemBatcher" in rejected(definition)
