import json
from datetime import timedelta

import pytest
from hypothesis import given, strategies as st

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock, payloads
from local_runtime.stepfunctions.clock import SLEEP
from local_runtime.stepfunctions.integrations import function_name, parse_resource, task_component
from local_runtime.stepfunctions.integrations.awslambda import LambdaFunction, LambdaInvoke
from local_runtime.stepfunctions.integrations.dynamodb import DynamoDB
from local_runtime.stepfunctions.integrations.events import EventBridgePutEvents
from local_runtime.stepfunctions.integrations.sdk import AwsSdk
from local_runtime.stepfunctions.integrations.sfn import StartExecution
from local_runtime.stepfunctions.integrations.sns import SnsPublish
from local_runtime.stepfunctions.integrations.sqs import SqsSendMessage
from local_runtime.stepfunctions.integrations.unsupported import Unsupported
from local_runtime.stepfunctions.parser import parse_definition
from tests.support.polling import wait_until

from .helpers import FakeLambda, fn_arn, moto_clients, output, run, run_on

ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture()
def aws():
    with moto_clients() as factory:
        ddb = factory("dynamodb")
        ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        factory("sqs").create_queue(QueueName="q")
        yield factory


def task(resource, parameters, **extra):
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                                             "End": True, **extra}}}


def test_dynamodb_put_get_and_condition_failure(aws):
    put = task("arn:aws:states:::dynamodb:putItem", {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}},
                                                     "ConditionExpression": "attribute_not_exists(id)"},
               ResultSelector={"code.$": "$.SdkHttpMetadata.HttpStatusCode"})
    assert output(run(put, {"id": "o1"}, aws_client=aws)) == {"code": 200}
    again = run(put, {"id": "o1"}, aws_client=aws)
    assert again.error == "DynamoDB.ConditionalCheckFailedException"
    assert "Error Code: ConditionalCheckFailedException" in again.cause
    get = task("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": {"id": {"S": "o1"}}},
               ResultSelector={"item.$": "$.Item"})
    assert output(run(get, {}, aws_client=aws)) == {"item": {"id": {"S": "o1"}}}


def test_sqs_send_message_serialises_the_body(aws):
    url = aws("sqs").get_queue_url(QueueName="q")["QueueUrl"]
    send = task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": {"order.$": "$.id"}})
    result = output(run(send, {"id": "o2"}, aws_client=aws))
    assert set(result) >= {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    body = aws("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert json.loads(body) == {"order": "o2"}
    missing = run(task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url + "-nope", "MessageBody": "x"}), {},
                  aws_client=aws)
    assert missing.error.startswith("SQS.") and missing.status == "FAILED"


def test_aws_sdk_integration(aws):
    sdk = task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": "orders"},
               ResultSelector={"name.$": "$.Table.TableName"})
    assert output(run(sdk, {}, aws_client=aws)) == {"name": "orders"}
    failing = run(task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": "nope"}), {},
                  aws_client=aws)
    assert failing.error == "Dynamodb.ResourceNotFoundException"


def test_lambda_invoke_result_shape_and_function_error():
    def boom(event):
        raise ValueError("bad order")

    invoke = task("arn:aws:states:::lambda:invoke", {"FunctionName": fn_arn("echo") + ":$LATEST",
                                                     "Payload": {"a.$": "$.a"}})
    result = output(run(invoke, {"a": 1}, functions={"echo": lambda e: e}))
    assert result["Payload"] == {"a": 1}
    assert (result["StatusCode"], result["ExecutedVersion"]) == (200, "$LATEST")
    assert result["SdkResponseMetadata"]["RequestId"] == result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    failed = run(task("arn:aws:states:::lambda:invoke", {"FunctionName": "boom"}), {}, functions={"boom": boom})
    assert failed.error == "ValueError"
    assert json.loads(failed.cause)["errorMessage"] == "bad order"


def test_direct_lambda_history_events():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("echo"), "End": True}}}
    execution = run(definition, {"x": 1}, functions={"echo": lambda e: e})
    types = execution.history.types()
    assert types == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
                     "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = execution.history.events()[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled == {"resource": fn_arn("echo"), "input": '{"x":1}', "inputDetails": {"truncated": False}}


def test_optimized_task_history_events(aws):
    definition = task("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": {"id": {"S": "x"}}},
                      TimeoutSeconds=5)
    execution = run(definition, {}, aws_client=aws)
    events = execution.history.events()
    assert [e["type"] for e in events][2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert events[2]["taskScheduledEventDetails"] == {
        "resourceType": "dynamodb", "resource": "getItem", "region": "us-east-1",
        "parameters": '{"TableName":"orders","Key":{"id":{"S":"x"}}}', "timeoutInSeconds": 5}


@pytest.mark.parametrize("value,expected", [
    ("f", "f"), ("f:prod", "f"), (fn_arn("f"), "f"), (fn_arn("f") + ":$LATEST", "f"),
    ("123456789012:function:f", "f")])
def test_function_name_forms(value, expected):
    assert function_name(value) == expected


def test_resource_parsing():
    r = parse_resource("arn:aws:states:::lambda:invoke.waitForTaskToken")
    assert (r.kind, r.resource_type, r.resource_name, r.callback) == ("optimized", "lambda",
                                                                      "invoke.waitForTaskToken", True)
    assert parse_resource("arn:aws:states:::aws-sdk:s3:getObject").resource_type == "aws-sdk:s3"


# -- components chosen when the definition is parsed ------------------------------------------------------------------

@pytest.mark.parametrize("arn, component", [
    (fn_arn("f"), LambdaFunction), ("arn:aws:states:::lambda:invoke", LambdaInvoke),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", LambdaInvoke),
    ("arn:aws:states:::dynamodb:updateItem", DynamoDB), ("arn:aws:states:::sqs:sendMessage", SqsSendMessage),
    ("arn:aws:states:::sns:publish.waitForTaskToken", SnsPublish),
    ("arn:aws:states:::events:putEvents", EventBridgePutEvents),
    ("arn:aws:states:::states:startExecution.sync:2", StartExecution),
    ("arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken", AwsSdk),
    ("arn:aws:states:us-east-1:123456789012:activity:approve", Unsupported),
    ("arn:aws:states:::glue:startJobRun.sync", Unsupported)])
def test_each_task_kind_has_its_component(arn, component):
    chosen = task_component(arn)
    assert type(chosen) is component and chosen.resource.arn == arn


# patterns AWS does not offer for the integration (the developer guide's table of optimized integrations), actions
# that are no optimized integration, and what is no task ARN at all
@pytest.mark.parametrize("arn", [
    "arn:aws:states:::dynamodb:scan", "arn:aws:states:::dynamodb:putItem.waitForTaskToken",
    "arn:aws:states:::sqs:sendMessage.sync", "arn:aws:states:::lambda:invoke.sync",
    "arn:aws:states:::aws-sdk:s3:getObject.sync", "arn:aws:states:::states:describeExecution",
    "arn:aws:lambda:us-east-1:123456789012:layer:l", 42])
def test_a_resource_no_component_serves_fails_at_creation(arn):
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": arn, "End": True}}}
    with pytest.raises(errors.InvalidDefinition) as info:
        parse_definition(definition)
    assert str(info.value) == (f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided "
                               f"{arn} is not recognized. The value is not a valid resource ARN, or the resource is not "
                               f"available in this region. at /States/T/Resource'")


@pytest.mark.parametrize("arn", ["arn:aws:states:us-east-1:123456789012:activity:approve",
                                 "arn:aws:states:::glue:startJobRun.sync"])
def test_a_resource_aws_serves_and_the_engine_does_not_is_accepted_and_fails_when_run(arn):
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": arn, "End": True,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Never"}]}, "Never": {"Type": "Succeed"}}}
    execution = run(definition)
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")  # terminal: the catcher is not taken
    assert execution.cause == (f"An error occurred while executing the state 'T' (entered at the event id #2). The "
                               f"resource {arn} is not supported by the local runtime")


# -- a Lambda task's payload: made once, sent as those bytes; its result parsed once, not serialised again -------------

def test_a_lambda_task_serialises_its_parameters_once_and_parses_its_result_once(monkeypatch):
    result = {"fulfilled": ["o-1", "o-2"]}
    invoker = FakeLambda({"f": lambda event: result})
    sent = []

    def lambda_invoke(name, payload):
        sent.append(payload)
        return invoker(name, payload)

    dumped = []

    class CountingEncoder:  # every compact JSON the engine makes goes through payloads' encoder
        @staticmethod
        def encode(value):
            dumped.append(value)
            return real.encode(value)

    real = payloads._COMPACT
    monkeypatch.setattr(payloads, "_COMPACT", CountingEncoder)
    parsed = []
    decode = json.JSONDecoder.decode

    def counting_decode(self, text, *args, **kwargs):  # json.loads, wherever it is called
        value = decode(self, text, *args, **kwargs)
        parsed.append(value)
        return value

    monkeypatch.setattr(json.JSONDecoder, "decode", counting_decode)
    engine = Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=lambda_invoke))
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("f"), "End": True,
                                                   "Parameters": {"order.$": "$.order"}, "ResultPath": "$.r"}}}
    execution = run_on(engine, definition, {"order": {"id": "o-1", "lines": [1, 2]}, "note": "n"})
    assert output(execution) == {"order": {"id": "o-1", "lines": [1, 2]}, "note": "n", "r": result}
    params = {"order": {"id": "o-1", "lines": [1, 2]}}
    assert sent == [b'{"order":{"id":"o-1","lines":[1,2]}}']
    assert [value for value in dumped if value == params] == [params]  # for its size, its history and the invoke
    assert [value for value in dumped if value == result] == []  # its size is bounded by the response's
    assert [value for value in parsed if value == result] == [result]  # the response, read once
    assert [value for value in parsed if value == params] == [params]  # by the function (FakeLambda) only
    scheduled = execution.history.events()[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled["input"].encode() == sent[0]


def test_the_invoker_is_told_which_payloads_the_engine_made_as_json():
    # an invoker that takes payload_is_json need not parse the engine's own JSON again (Lambda's Invoke checks that
    # the payload is JSON); a string Payload of lambda:invoke is sent as is and is checked there
    invoker = FakeLambda({"f": lambda event: {"ok": True}})
    told = []

    def lambda_invoke(name, payload, payload_is_json=False):
        told.append((payload, payload_is_json))
        return invoker(name, payload)

    engine = Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=lambda_invoke))
    invoke = "arn:aws:states:::lambda:invoke"
    for definition in (task(fn_arn("f"), {"a.$": "$.a"}),
                       task(invoke, {"FunctionName": "f", "Payload": {"a.$": "$.a"}}),
                       task(invoke, {"FunctionName": "f", "Payload.$": "States.JsonToString($)"}),
                       task(invoke, {"FunctionName": "f"})):
        assert run_on(engine, definition, {"a": 1}).status == "SUCCEEDED"
    assert told == [(b'{"a":1}', True), (b'{"a":1}', True), (b'{"a":1}', False), (b"{}", True)]


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20),
       st.sampled_from([None, 1, 4]), st.booleans())
def test_a_json_value_is_at_most_five_times_the_response_it_was_read_from(value, indent, ascii_only):
    # what LambdaFunction's result bound relies on (awslambda.py _JSON_GROWTH), for responses written any way
    response = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode()
    assert len(payloads.dumps(json.loads(response)).encode()) <= 5 * len(response)


@pytest.mark.parametrize("text", ["1e15", "[1e15,-9e15,1E+15]", '{"a":1e15}', "1E400", "[0.1e1]"])
def test_numbers_written_short_stay_within_the_bound(text):
    assert len(payloads.dumps(json.loads(text)).encode()) <= 5 * len(text)


def test_a_lambda_result_over_the_limit_is_still_measured_exactly():
    # the bound (5 x the response) is over the limit, so the text is made and measured: to the byte
    big = "x" * (payloads.PAYLOAD_LIMIT - 2)  # with its two quotes, exactly the limit as JSON
    execution = run(task(fn_arn("f"), {}, ResultPath=None), functions={"f": lambda event: big})
    assert execution.status == "SUCCEEDED"
    too_big = run(task(fn_arn("f"), {}, ResultPath=None), functions={"f": lambda event: big + "x"})
    assert (too_big.status, too_big.error) == ("FAILED", "States.DataLimitExceeded")


# -- states:startExecution -----------------------------------------------------------------------------------------

CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "Next": "P"},
                                   "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                                         "End": True}}}
FAILING_CHILD = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Child.Error", "Cause": "it failed"}}}


@pytest.fixture()
def sfn():
    service = StepFunctionsService(Engine(VirtualClock(auto_advance=True), Integrations()))
    arns = {name: service.handle("CreateStateMachine", {"name": name, "definition": json.dumps(definition),
                                                         "roleArn": ROLE})["stateMachineArn"]
            for name, definition in (("child", CHILD), ("failing", FAILING_CHILD))}
    yield service, arns
    service.engine.shutdown()


def parent(pattern: str, child_arn: str, **extra) -> dict:
    return {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": f"arn:aws:states:::states:startExecution{pattern}", "End": True,
        "Parameters": {"StateMachineArn": child_arn, "Input": {"n.$": "$.n"}, "Name": "kid"}, **extra}}}


def run_parent(service, definition: dict, data: dict):
    return run_on(service.engine, definition, data)


def test_start_execution_answers_with_the_child_it_started(sfn):
    service, arns = sfn
    execution = run_parent(service, parent("", arns["child"]), {"n": 2})
    result = output(execution)
    child_arn = "arn:aws:states:us-east-1:123456789012:execution:child:kid"
    assert result["ExecutionArn"] == child_arn
    child = service.engine.wait(child_arn, 10)
    assert result["StartDate"] == int(round(child.start_date.timestamp() * 1000))
    assert set(result) == {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert json.loads(child.output) == {"doubled": 4}


def test_sync2_waits_for_the_child_and_takes_its_parsed_output(sfn):
    service, arns = sfn
    execution = run_parent(service, parent(".sync:2", arns["child"]), {"n": 3})
    result = output(execution)
    assert (result["Status"], result["Output"], result["Input"]) == ("SUCCEEDED", {"doubled": 6}, {"n": 3})
    assert result["StopDate"] - result["StartDate"] == 10_000  # the child's Wait, in epoch milliseconds
    types = execution.history.types()
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_sync_fails_with_the_childs_description_when_the_child_fails(sfn):
    service, arns = sfn
    execution = run_parent(service, parent(".sync", arns["failing"]), {"n": 1})
    assert execution.error == "States.TaskFailed"
    described = json.loads(execution.cause)
    assert (described["Status"], described["Error"], described["Cause"]) == ("FAILED", "Child.Error", "it failed")
    assert described["Input"] == '{"n":1}'  # .sync: Input and Output stay JSON text


def test_a_sync_task_timing_out_stops_its_child():
    # a clock moved by hand: the parent's 5 s timeout and the child's 10 s Wait are both pending before time moves
    # (with auto_advance, whichever timer was set first moved the clock: the test failed about 1 run in 10)
    clock = VirtualClock()
    service = StepFunctionsService(Engine(clock, Integrations()))
    try:
        def create(name, definition):
            return service.handle("CreateStateMachine", {"name": name, "definition": json.dumps(definition),
                                                         "roleArn": ROLE})["stateMachineArn"]
        parent_arn = create("parent", parent(".sync", create("child", CHILD), TimeoutSeconds=5))
        started = service.handle("StartExecution", {"stateMachineArn": parent_arn, "input": '{"n": 1}'})
        wait_until(lambda: clock.pending(SLEEP), 20, lambda pending: pending, interval=0.002,
                   accept=lambda pending: pending == [clock.now() + timedelta(seconds=5),
                                                      clock.now() + timedelta(seconds=10)])
        clock.advance(5)
        execution = service.engine.wait(started["executionArn"], 10)
        assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
        child = service.engine.wait("arn:aws:states:us-east-1:123456789012:execution:child:kid", 10)
        assert (child.status, child.error, child.cause) == ("ABORTED", "States.Timeout", "The parent task timed out")
    finally:
        service.engine.shutdown()


def test_start_execution_errors_are_named_after_the_api(sfn):
    service, arns = sfn
    execution = run_parent(service, parent("", arns["child"].replace(":child", ":nope")), {"n": 1})
    assert execution.error == "StepFunctions.StateMachineDoesNotExistException"
    assert execution.cause.startswith("State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:"
                                      "stateMachine:nope' (Service: AWSStepFunctions; Status Code: 400; Error Code: "
                                      "StateMachineDoesNotExist; Request ID: ")
