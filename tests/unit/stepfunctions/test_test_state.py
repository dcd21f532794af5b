"""TestState through boto3's ``test_state`` against the engine service: request and response shapes of AWS's API,
statuses SUCCEEDED/FAILED/RETRIABLE/CAUGHT_ERROR, inspection data, mocks, context and state configuration."""
import json

import pytest
from botocore.exceptions import ClientError

from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock

from .helpers import FakeLambda
from .sfn_client import sfn_client

ROLE = "arn:aws:iam::123456789012:role/sfn"
INVOKE = "arn:aws:states:::lambda:invoke"


def raise_throttled(event):
    raise TooManyRequests("slow down")


class TooManyRequests(Exception):
    pass


@pytest.fixture()
def sfn():
    fake = FakeLambda({"echo": lambda event: {"got": event}, "throttled": raise_throttled})
    service = StepFunctionsService(Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=fake)))
    client = sfn_client(service)
    client.fake = fake
    yield client
    service.engine.shutdown()


def call(sfn, definition, **kwargs) -> dict:
    response = sfn.test_state(definition=json.dumps(definition), **kwargs)
    response.pop("ResponseMetadata")
    return response


def task(**fields) -> dict:
    return {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, **fields}


def test_choice_at_info_level(sfn):
    definition = {"Type": "Choice", "Default": "No Match", "Choices": [
        {"Variable": "$.number", "NumericEquals": 1, "Next": "Equals 1"},
        {"Variable": "$.number", "NumericEquals": 2, "Next": "Equals 2"}]}
    assert call(sfn, definition, roleArn=ROLE, input='{"number": 2}') == {
        "output": '{"number":2}', "nextState": "Equals 2", "status": "SUCCEEDED"}


def test_pass_at_debug_level_shows_each_processing_step(sfn):
    definition = {"Type": "Pass", "InputPath": "$.payload", "Parameters": {"data": 1}, "ResultPath": "$.result",
                  "OutputPath": "$.result.data", "Next": "Another State"}
    assert call(sfn, definition, roleArn=ROLE, input='{"payload": {"foo": "bar"}}', inspectionLevel="DEBUG") == {
        "output": "1",
        "inspectionData": {"input": '{"payload": {"foo": "bar"}}', "afterInputPath": '{"foo":"bar"}',
                           "afterParameters": '{"data":1}', "afterResultSelector": '{"data":1}',
                           "afterResultPath": '{"payload":{"foo":"bar"},"result":{"data":1}}'},
        "nextState": "Another State", "status": "SUCCEEDED"}


def test_a_task_calls_its_integration_and_shows_result_and_result_selector(sfn):
    definition = task(ResultSelector={"echoed.$": "$.Payload.got"}, ResultPath="$.r", End=True)
    response = call(sfn, definition, roleArn=ROLE, input='{"a": 1}', inspectionLevel="DEBUG")
    assert response["status"] == "SUCCEEDED"
    assert response["output"] == '{"a":1,"r":{"echoed":{"a":1}}}'
    assert "nextState" not in response
    inspection = response["inspectionData"]
    assert inspection["afterParameters"] == '{"FunctionName":"echo","Payload":{"a":1}}'
    assert json.loads(inspection["result"])["Payload"] == {"got": {"a": 1}}
    assert json.loads(inspection["result"])["StatusCode"] == 200
    assert inspection["afterResultSelector"] == '{"echoed":{"a":1}}'
    assert inspection["afterResultPath"] == '{"a":1,"r":{"echoed":{"a":1}}}'
    assert sfn.fake.calls == [("echo", {"a": 1})]


def test_a_mocked_result_replaces_the_call(sfn):
    definition = task(ResultSelector={"body.$": "$.Payload.body"}, Next="Done")
    response = call(sfn, definition, input='{"key": "value"}',
                          mock={"result": '{"StatusCode": 200, "Payload": {"body": "Success"}}'})
    assert response == {"output": '{"body":"Success"}', "nextState": "Done", "status": "SUCCEEDED"}
    assert sfn.fake.calls == []


def test_a_real_failure_without_handlers_is_failed(sfn):
    definition = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "throttled"}, "End": True}
    response = call(sfn, definition, roleArn=ROLE)
    assert (response["status"], response["error"]) == ("FAILED", "TooManyRequests")
    assert json.loads(response["cause"])["errorMessage"] == "slow down"
    assert "output" not in response


def test_a_retried_error_is_retriable_with_the_backoff_for_the_retry_count(sfn):
    definition = task(Retry=[{"ErrorEquals": ["Other"]},
                             {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3,
                              "BackoffRate": 2.0}], End=True)
    response = call(sfn, definition, input='{"data": "value"}', inspectionLevel="DEBUG",
                          stateConfiguration={"retrierRetryCount": 1},
                          mock={"errorOutput": {"error": "Lambda.ServiceException", "cause": "Service error"}})
    assert (response["status"], response["error"], response["cause"]) == (
        "RETRIABLE", "Lambda.ServiceException", "Service error")
    assert response["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 4}


def test_max_delay_caps_the_reported_backoff(sfn):
    definition = task(Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 5,
                              "BackoffRate": 3, "MaxDelaySeconds": 60}], End=True)
    response = call(sfn, definition, inspectionLevel="DEBUG", stateConfiguration={"retrierRetryCount": 3},
                          mock={"errorOutput": {"error": "Boom", "cause": ""}})
    assert response["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 60}


def test_a_caught_error_gives_the_catcher_output_and_next_state(sfn):
    definition = task(Catch=[{"ErrorEquals": ["Lambda.TooManyRequestsException"], "ResultPath": "$.error",
                              "Next": "HandleThrottling"}], Next="Success")
    response = call(sfn, definition, input='{"data": "value"}', inspectionLevel="DEBUG",
                          mock={"errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "Rate exceeded"}})
    assert response == {
        "status": "CAUGHT_ERROR", "nextState": "HandleThrottling", "error": "Lambda.TooManyRequestsException",
        "cause": "Rate exceeded",
        "output": '{"data":"value","error":{"Error":"Lambda.TooManyRequestsException","Cause":"Rate exceeded"}}',
        "inspectionData": {"input": '{"data": "value"}', "afterInputPath": '{"data":"value"}',
                           "afterParameters": '{"FunctionName":"echo","Payload":{"data":"value"}}',
                           "errorDetails": {"catchIndex": 0}}}


def test_exhausted_retries_fall_through_to_catch(sfn):
    definition = task(Retry=[{"ErrorEquals": ["X"], "MaxAttempts": 2}],
                      Catch=[{"ErrorEquals": ["Y"], "Next": "Other"}, {"ErrorEquals": ["X"], "Next": "Handler"}],
                      End=True)
    mock = {"errorOutput": {"error": "X", "cause": "c"}}
    assert call(sfn, definition, mock=mock, stateConfiguration={"retrierRetryCount": 1})["status"] == "RETRIABLE"
    caught = call(sfn, definition, mock=mock, stateConfiguration={"retrierRetryCount": 2},
                        inspectionLevel="DEBUG")
    assert (caught["status"], caught["nextState"], caught["output"]) == (
        "CAUGHT_ERROR", "Handler", '{"Error":"X","Cause":"c"}')
    # the matching retrier is exhausted: its index is reported with the catcher's (AWS records retryIndex on an
    # error whose retries are exhausted)
    assert caught["inspectionData"]["errorDetails"] == {"retryIndex": 0, "catchIndex": 1}


def test_exhausted_retries_without_a_catcher_fail_with_the_retry_index(sfn):
    # AWS-recorded: a JSONata lambda:invoke Task, Retry MockException IntervalSeconds 1, MaxAttempts 5, BackoffRate 2;
    # retrierRetryCount 4 is RETRIABLE after 16 s, 5 is FAILED with only the retry index
    definition = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": INVOKE,
                  "Arguments": {"FunctionName": "foo", "Payload": "bar"},
                  "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5,
                             "BackoffRate": 2.0}], "End": True}
    mock = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}
    below = call(sfn, definition, input='{"Values": ["first"]}', inspectionLevel="DEBUG", mock=mock,
                 stateConfiguration={"retrierRetryCount": 4})
    assert below == {"status": "RETRIABLE", "error": "MockException", "cause": "Mock the cause of the error.",
                     "inspectionData": {"input": '{"Values": ["first"]}',
                                        "afterArguments": '{"FunctionName":"foo","Payload":"bar"}',
                                        "errorDetails": {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}}}
    exceeded = call(sfn, definition, input='{"Values": ["first"]}', inspectionLevel="TRACE", mock=mock,
                    stateConfiguration={"retrierRetryCount": 5})
    assert (exceeded["status"], exceeded["inspectionData"]["errorDetails"]) == ("FAILED", {"retryIndex": 0})


def test_a_fail_state_is_failed(sfn):
    response = call(sfn, {"Type": "Fail", "Error": "Bad", "Cause": "it is bad"}, roleArn=ROLE)
    assert response == {"status": "FAILED", "error": "Bad", "cause": "it is bad"}


def test_a_wait_state_does_not_wait(sfn):
    response = call(sfn, {"Type": "Wait", "Seconds": 3600, "Next": "After"}, roleArn=ROLE, input='{"x": 1}')
    assert response == {"output": '{"x":1}', "nextState": "After", "status": "SUCCEEDED"}


def test_context_is_merged_into_the_context_object(sfn):
    # the developer guide's example of the context field (with a mock, as the API reference requires)
    definition = {"Type": "Task", "Resource": INVOKE, "End": True, "Parameters": {
        "FunctionName": "MyFunction", "Payload": {"executionId.$": "$$.Execution.Id", "stateName.$": "$$.State.Name",
                                                  "enteredTime.$": "$$.State.EnteredTime"}}}
    context = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:MyStateMachine:test-exec-123",
                             "Name": "test-exec-123", "StartTime": "2024-01-01T10:00:00.000Z"},
               "State": {"Name": "ProcessData", "EnteredTime": "2024-01-01T10:00:05.000Z"}}
    response = call(sfn, definition, input='{"data": "value"}', context=json.dumps(context),
                    mock={"result": '{"status": "success"}'}, inspectionLevel="DEBUG")
    assert json.loads(response["inspectionData"]["afterParameters"])["Payload"] == {
        "executionId": "arn:aws:states:us-east-1:123456789012:execution:MyStateMachine:test-exec-123",
        "stateName": "ProcessData", "enteredTime": "2024-01-01T10:00:05.000Z"}
    assert response["output"] == '{"status":"success"}'


def test_a_wait_for_task_token_task_reads_the_token_of_the_context(sfn):
    definition = {"Type": "Task", "Resource": INVOKE + ".waitForTaskToken", "QueryLanguage": "JSONata",
                  "Arguments": {"FunctionName": "approve", "Payload": {"token": "{% $states.context.Task.Token %}"}},
                  "Output": "{% $merge([$states.input, {'approval': $states.result}]) %}", "Next": "Check"}
    response = call(sfn, definition, input='{"orderId": "o-1"}', inspectionLevel="DEBUG",
                    context='{"Task": {"Token": "token-1"}}', mock={"result": '{"approved": true}'})
    assert response["status"] == "SUCCEEDED"
    assert response["inspectionData"]["afterArguments"] == '{"FunctionName":"approve","Payload":{"token":"token-1"}}'
    assert (response["output"], response["nextState"]) == ('{"orderId":"o-1","approval":{"approved":true}}', "Check")


def test_a_state_of_a_whole_definition_by_state_name(sfn):
    machine = {"StartAt": "First", "States": {
        "First": {"Type": "Pass", "Result": {"n": 1}, "Next": "Second"},
        "Second": {"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.n, $.n)"}, "End": True}}}
    assert call(sfn, machine, roleArn=ROLE, stateName="Second", input='{"n": 4}') == {
        "output": '{"double":8}', "status": "SUCCEEDED"}


def test_a_state_inside_a_map_gets_a_default_map_context(sfn):
    machine = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Item", "States": {
            "Item": {"Type": "Pass", "Parameters": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
                     "End": True}}}}}}
    response = call(sfn, machine, roleArn=ROLE, stateName="Item", input='"a"')
    assert response == {"output": '{"index":0,"value":"a"}', "status": "SUCCEEDED"}


def test_a_map_state_with_a_mock_shows_items_and_thresholds(sfn):
    definition = {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "MaxConcurrency": 2,
                  "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                  "ResultPath": "$.results", "End": True}
    response = call(sfn, definition, input='{"items": [1, 2]}', inspectionLevel="DEBUG",
                          mock={"result": "[10, 20]"})
    assert response["output"] == '{"items":[1,2],"results":[10,20]}'
    inspection = response["inspectionData"]
    assert inspection["afterItemsPath"] == "[1,2]"
    assert inspection["afterItemSelector"] == '[{"value":1,"index":0},{"value":2,"index":1}]'
    assert (inspection["toleratedFailureCount"], inspection["maxConcurrency"]) == (1, 2)
    failing = call(sfn, definition, input='{"items": [1, 2]}', mock={"result": "[10, 20]"},
                         stateConfiguration={"mapIterationFailureCount": 2})
    assert (failing["status"], failing["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_a_parallel_mock_needs_one_result_per_branch(sfn):
    definition = {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}
    assert call(sfn, definition, mock={"result": '["a", "b"]'})["output"] == '["a","b"]'
    with pytest.raises(ClientError) as info:
        call(sfn, definition, mock={"result": '["a"]'})
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Mocked result must contain the same number of items as number of Parallel branches."}


MAP = {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}


# messages AWS answers with (recorded), unless marked ours
@pytest.mark.parametrize("definition, kwargs, message", [
    (task(End=True), {}, "RoleArn must be specified when testing a Task state"),
    ({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True},
     {"roleArn": ROLE}, "Testing an activity, .sync or .waitForTaskToken Task needs a mock: "  # ours
                        "arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
    (task(End=True), {"mock": {"result": "1", "errorOutput": {"error": "E"}}},
     "A test mock should have only one of the following fields: [result, errorOutput]."),
    (task(End=True), {"mock": {"result": "{}"}, "revealSecrets": True},
     "TestState does not support RevealSecrets when a mock is specified."),
    ({"Type": "Pass", "End": True}, {"mock": {"result": "{}"}},
     "State type 'Pass' is not supported when a mock is specified"),
    ({"Type": "Fail", "Error": "E"}, {"mock": {"errorOutput": {"error": "E", "cause": "C"}}},
     "State type 'Fail' is not supported when a mock is specified"),
    (MAP, {"mock": {"result": "{}"}}, "Mocked result must be an array."),
    ({"Type": "Parallel", "End": True, "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]},
     {"mock": {"result": "{}"}}, "Mocked result must be an array."),
    (task(End=True), {"mock": {"result": "not JSON string", "fieldValidationMode": "NONE"}},
     "Mocked result must be valid JSON"),
    ({"Type": "Pass", "End": True}, {"context": "{}"},  # ours: the API reference's rule
     "The field 'context' may only be specified if a mock is specified in the same request"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"roleArn": ROLE},
     "stateName is required when the definition is a whole state machine"),  # ours
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"stateName": "dne"},
     "State not found in definition"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"stateName": '"invalid"'},
     "State not found in definition"),
    (MAP, {"mock": {"errorOutput": {"error": "E"}}, "stateConfiguration": {"errorCausedByState": "Nope"}},
     "stateConfiguration.errorCausedByState: the state 'Nope' is not in the state's item processor"),  # ours
    ({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "End": True},
     {"mock": {"result": '{"Item": "not a map"}'}},
     "The mocked result does not match the API's response: $.Item must be an object"),
    ({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True},
     {"mock": {"result": '{"MessageId": 7}'}},
     "The mocked result does not match the API's response: $.MessageId must be a string"),
])
def test_invalid_requests_are_validation_exceptions(sfn, definition, kwargs, message):
    with pytest.raises(ClientError) as info:
        call(sfn, definition, **kwargs)
    assert info.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_field_validation_none_accepts_any_mock(sfn):
    definition = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    response = call(sfn, definition, mock={"result": '{"MessageId": 7}', "fieldValidationMode": "NONE"})
    assert response == {"output": '{"MessageId":7}', "status": "SUCCEEDED"}


def test_strict_validation_requires_required_members_and_present_does_not(sfn):
    definition = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:listQueues", "End": True}
    assert call(sfn, definition, mock={"result": "{}"})["status"] == "SUCCEEDED"  # nothing required
    sdk = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:stepfunctions:startExecution", "End": True}
    with pytest.raises(ClientError) as info:
        call(sfn, sdk, mock={"result": '{"executionArn": "arn"}'})
    assert info.value.response["Error"]["Message"] == \
        "The mocked result does not match the API's response: $.startDate is required"
    assert call(sfn, sdk, mock={"result": '{"executionArn": "arn"}', "fieldValidationMode": "PRESENT"}) == {
        "output": '{"executionArn":"arn"}', "status": "SUCCEEDED"}


def test_an_invalid_state_definition_is_invalid_definition(sfn):
    with pytest.raises(ClientError) as info:
        call(sfn, {"Type": "Pass", "InputPath": "nope", "End": True}, roleArn=ROLE)
    assert info.value.response["Error"] == {
        "Code": "InvalidDefinition",
        "Message": "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' "
                   "must be a valid JSONPath at /States/StateName/InputPath'"}


def test_invalid_input_json_is_invalid_execution_input(sfn):
    with pytest.raises(ClientError) as info:
        call(sfn, {"Type": "Pass", "End": True}, roleArn=ROLE, input="{nope")
    assert info.value.response["Error"]["Code"] == "InvalidExecutionInput"


def test_a_result_over_256_kib_is_data_limit_exceeded(sfn):
    big = json.dumps({"StatusCode": 200, "Payload": "x" * 262144})
    response = call(sfn, task(End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}]),
                          mock={"result": big})
    assert (response["status"], response["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_task_parameters_over_256_kib_are_data_limit_exceeded_with_their_inspection(sfn):
    definition = task(End=True, Parameters={"FunctionName": "echo", "Payload": {"a.$": "$.s", "b.$": "$.s"}})
    response = call(sfn, definition, roleArn=ROLE, input=json.dumps({"s": "y" * 131072}), inspectionLevel="DEBUG")
    assert (response["status"], response["error"], response["cause"]) == (
        "FAILED", "States.DataLimitExceeded",
        "The state/task 'StateName' input exceeds the maximum number of bytes service limit.")
    parameters = {"FunctionName": "echo", "Payload": {"a": "y" * 131072, "b": "y" * 131072}}
    assert json.loads(response["inspectionData"]["afterParameters"]) == parameters
    assert sfn.fake.calls == []


def test_a_jsonata_state_runs_through_its_own_logic(sfn):
    definition = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input.n * 2 %}", "Next": "After"}
    assert call(sfn, definition, roleArn=ROLE, input='{"n": 21}') == {
        "output": "42", "nextState": "After", "status": "SUCCEEDED"}


def test_map_and_parallel_states_need_a_mock(sfn):
    # AWS-recorded: InvalidDefinition with this text for a Map or a Parallel state tested without a mock
    for definition in (MAP, {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]}):
        with pytest.raises(ClientError) as info:
            call(sfn, definition, roleArn=ROLE)
        assert info.value.response["Error"] == {
            "Code": "InvalidDefinition",
            "Message": "TestState API does not support Map or Parallel states. Supported state types include: "
                       "[Task, Wait, Pass, Succeed, Fail, Choice]"}


def test_states_that_call_nothing_need_no_role_and_trace_shows_the_debug_data(sfn):
    # AWS-recorded: a Pass state machine tested by stateName without roleArn, at INFO and at TRACE
    machine = {"StartAt": "State0", "States": {"State0": {"Type": "Pass", "End": True}}}
    assert call(sfn, machine, stateName="State0", input='{"Value": "HelloWorld"}') == {
        "output": '{"Value":"HelloWorld"}', "status": "SUCCEEDED"}
    hello = '{"Value":"HelloWorld"}'
    assert call(sfn, machine, stateName="State0", input='{"Value": "HelloWorld"}', inspectionLevel="TRACE") == {
        "output": hello, "status": "SUCCEEDED",
        "inspectionData": {"input": '{"Value": "HelloWorld"}', "afterInputPath": hello, "afterParameters": hello,
                           "afterResultSelector": hello, "afterResultPath": hello}}


def test_a_jsonata_state_shows_only_its_input(sfn):
    # AWS-recorded: a JSONata Pass state at DEBUG has only the input in its inspection data
    machine = {"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Next": "State1"}, "State1": {"Type": "Fail", "Error": "SomeFailure"}}}
    assert call(sfn, machine, stateName="State0", input='{"Value": "HelloWorld"}', inspectionLevel="DEBUG") == {
        "output": '{"Value":"HelloWorld"}', "nextState": "State1", "status": "SUCCEEDED",
        "inspectionData": {"input": '{"Value": "HelloWorld"}'}}


def test_a_jsonata_map_with_a_mock_applies_output_and_the_failure_threshold(sfn):
    # AWS-recorded: a JSONata Map (Items, ToleratedFailureCount 1, Catch of the threshold at index 1): within the
    # threshold the mock is the result; mapIterationFailureCount 2 of 3 is caught, with the catcher's Output
    definition = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                    "StartAt": "TestState", "States": {"TestState": {"Type": "Pass", "End": True}}},
                  "ToleratedFailureCount": 1,
                  "Catch": [{"ErrorEquals": ["Other"], "Next": "Other"},
                            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "HandleThreshold",
                             "Output": "{% $states.errorOutput %}"}], "End": True}
    source = '{"Values": ["first", "second", "third"]}'
    below = call(sfn, definition, input=source, mock={"result": "[1, 1, 1]"}, inspectionLevel="DEBUG",
                 stateConfiguration={"mapIterationFailureCount": 0})
    assert below == {"output": "[1,1,1]", "status": "SUCCEEDED",
                     "inspectionData": {"input": source, "maxConcurrency": 0, "toleratedFailureCount": 1}}
    exceeded = call(sfn, definition, input=source, mock={"result": "[0, 0, 1]"}, inspectionLevel="DEBUG",
                    stateConfiguration={"mapIterationFailureCount": 2})
    threshold = "The specified tolerated failure threshold was exceeded"
    assert exceeded == {
        "status": "CAUGHT_ERROR", "error": "States.ExceedToleratedFailureThreshold", "cause": threshold,
        "nextState": "HandleThreshold",
        "output": json.dumps({"Error": "States.ExceedToleratedFailureThreshold", "Cause": threshold},
                             separators=(",", ":")),
        "inspectionData": {"input": source, "maxConcurrency": 0, "toleratedFailureCount": 1,
                           "errorDetails": {"catchIndex": 1}}}


def test_a_mocked_error_of_a_map_goes_to_its_catcher(sfn):
    # the developer guide: the error a mock gives a Map state (raised by errorCausedByState) is handled by the
    # Map state's own Retry and Catch
    machine = {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 2,
                 "ItemProcessor": {"StartAt": "ProcessItem", "States": {
                     "ProcessItem": {"Type": "Task", "Resource": INVOKE, "End": True}}},
                 "Retry": [{"ErrorEquals": ["States.ItemReaderFailed"]}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                 "Next": "Done"},
        "Done": {"Type": "Succeed"}, "Failed": {"Type": "Fail"}}}
    response = call(sfn, machine, stateName="Each", input='{"items": [1, 2, 3]}', inspectionLevel="DEBUG",
                    stateConfiguration={"errorCausedByState": "ProcessItem", "mapIterationFailureCount": 3},
                    mock={"errorOutput": {"error": "States.TaskFailed", "cause": "Task execution failed"}})
    assert (response["status"], response["nextState"], response["error"]) == (
        "CAUGHT_ERROR", "Failed", "States.TaskFailed")
    assert json.loads(response["output"]) == {"items": [1, 2, 3], "error": {
        "Error": "States.TaskFailed", "Cause": "Task execution failed"}}
    inspection = response["inspectionData"]
    assert (inspection["afterItemsPath"], inspection["toleratedFailureCount"], inspection["errorDetails"]) == (
        "[1,2,3]", 2, {"catchIndex": 0})


def test_a_state_inside_a_map_processor_of_a_jsonata_machine(sfn):
    machine = {"QueryLanguage": "JSONata", "StartAt": "Each", "States": {"Each": {
        "Type": "Map", "Items": "{% $states.input.items %}", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "ProcessItem", "States": {
                              "ProcessItem": {"Type": "Task", "Resource": INVOKE, "End": True,
                                              "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
                                              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "ItemFailed"}]},
                              "ItemFailed": {"Type": "Fail", "Error": "ItemError"}}}}}}
    done = call(sfn, machine, stateName="ProcessItem", input='{"id": 1}', mock={"result": '{"ok": true}'})
    assert done == {"output": '{"ok":true}', "status": "SUCCEEDED"}
    caught = call(sfn, machine, stateName="ProcessItem", input='{"id": 1}',
                  mock={"errorOutput": {"error": "Bad", "cause": "bad item"}})
    assert caught == {"status": "CAUGHT_ERROR", "error": "Bad", "cause": "bad item", "nextState": "ItemFailed",
                      "output": '{"Error":"Bad","Cause":"bad item"}'}


def test_variables_are_read_and_assigned(sfn):
    definition = {"Type": "Pass", "Parameters": {"total.$": "$price"}, "Assign": {"seen": True}, "End": True}
    response = call(sfn, definition, variables='{"price": 42}', inspectionLevel="DEBUG")
    assert response["output"] == '{"total":42}'
    assert json.loads(response["inspectionData"]["variables"]) == {"price": 42, "seen": True}


def test_a_map_over_its_failure_threshold_is_retriable_by_its_second_retrier(sfn):
    # AWS-recorded: the item processor's Lambda ARN is a placeholder (AWS accepts it); 2 of 3 iterations failed
    # with ToleratedFailureCount 1 is the threshold error, retried by the second retrier after 1 s (defaults)
    definition = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}",
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                    "StartAt": "TestState", "States": {"TestState": {
                                        "Type": "Task", "End": True, "Resource":
                                            "arn:aws:lambda:your-region:your-account-id:function:yourHelloWorldFunction"}}},
                  "Retry": [{"ErrorEquals": ["MockException"], "MaxAttempts": 3},
                            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2}],
                  "ToleratedFailureCount": 1, "End": True}
    response = call(sfn, definition, roleArn=ROLE, input='{"Values": ["first", "second", "third"]}',
                    inspectionLevel="DEBUG", mock={"result": "[0, 0, 1]"},
                    stateConfiguration={"mapIterationFailureCount": 2})
    assert response == {
        "status": "RETRIABLE", "error": "States.ExceedToleratedFailureThreshold",
        "cause": "The specified tolerated failure threshold was exceeded",
        "inspectionData": {"input": '{"Values": ["first", "second", "third"]}', "maxConcurrency": 0,
                           "toleratedFailureCount": 1,
                           "errorDetails": {"retryIndex": 1, "retryBackoffIntervalSeconds": 1}}}
