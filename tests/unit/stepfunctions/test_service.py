import json
import time
from pathlib import Path

import boto3
import botocore.session
import pytest

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.stepfunctions.service import OPERATIONS

ROOT = Path(__file__).resolve().parents[3]

ROLE = "arn:aws:iam::123456789012:role/sfn"
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"},
                                  "P": {"Type": "Pass", "End": True}}}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}


@pytest.fixture()
def svc():
    service = StepFunctionsService(Engine(VirtualClock(), Integrations()))
    yield service
    service.engine.shutdown()


def create(svc, name="m", definition=PASS, **extra):
    return svc.handle("CreateStateMachine", {"name": name, "definition": json.dumps(definition), "roleArn": ROLE,
                                             **extra})["stateMachineArn"]


def test_create_describe_list_update_delete(svc):
    arn = create(svc)
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    assert create(svc) == arn  # identical re-create is idempotent
    with pytest.raises(errors.StateMachineAlreadyExists):
        create(svc, definition=WAIT)
    described = svc.handle("DescribeStateMachine", {"stateMachineArn": arn})
    assert (described["name"], described["status"], described["type"], described["roleArn"]) == \
        ("m", "ACTIVE", "STANDARD", ROLE)
    assert json.loads(described["definition"]) == PASS
    assert isinstance(described["creationDate"], float)
    assert [m["name"] for m in svc.handle("ListStateMachines", {})["stateMachines"]] == ["m"]
    svc.handle("UpdateStateMachine", {"stateMachineArn": arn, "definition": json.dumps(WAIT)})
    assert json.loads(svc.handle("DescribeStateMachine", {"stateMachineArn": arn})["definition"]) == WAIT
    svc.handle("DeleteStateMachine", {"stateMachineArn": arn})
    with pytest.raises(errors.StateMachineDoesNotExist):
        svc.handle("DescribeStateMachine", {"stateMachineArn": arn})


def test_invalid_definition_and_name(svc):
    with pytest.raises(errors.InvalidDefinition):
        create(svc, definition={"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    with pytest.raises(errors.InvalidName):
        create(svc, name="bad name")


def test_start_describe_and_history(svc):
    arn = create(svc)
    started = svc.handle("StartExecution", {"stateMachineArn": arn, "name": "e1", "input": '{"a":1}'})
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:m:e1"
    svc.engine.wait(started["executionArn"], 2)
    described = svc.handle("DescribeExecution", {"executionArn": started["executionArn"]})
    assert described["status"] == "SUCCEEDED"
    assert described["output"] == '{"ok":1}'
    assert described["input"] == '{"a":1}'
    assert described["stateMachineArn"] == arn
    history = svc.handle("GetExecutionHistory", {"executionArn": started["executionArn"]})["events"]
    assert [e["type"] for e in history] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                            "ExecutionSucceeded"]
    # AWS records the first state's StateEntered with previousEventId 0 (not the ExecutionStarted event's id)
    assert history[1] == {"timestamp": history[1]["timestamp"], "type": "PassStateEntered", "id": 2,
                          "previousEventId": 0, "stateEnteredEventDetails": {
                              "name": "P", "input": '{"a":1}', "inputDetails": {"truncated": False}}}
    reverse = svc.handle("GetExecutionHistory", {"executionArn": started["executionArn"], "reverseOrder": True,
                                                 "maxResults": 2, "includeExecutionData": False})
    assert [e["id"] for e in reverse["events"]] == [4, 3]
    assert "output" not in reverse["events"][0]["executionSucceededEventDetails"]
    rest = svc.handle("GetExecutionHistory", {"executionArn": started["executionArn"], "reverseOrder": True,
                                              "nextToken": reverse["nextToken"]})
    assert [e["id"] for e in rest["events"]] == [2, 1]


def test_execution_name_idempotency(svc):
    arn = create(svc, definition=WAIT)
    first = svc.handle("StartExecution", {"stateMachineArn": arn, "name": "same", "input": "{}"})
    again = svc.handle("StartExecution", {"stateMachineArn": arn, "name": "same", "input": "{}"})
    assert again == first  # same name and input while RUNNING: the same execution
    with pytest.raises(errors.ExecutionAlreadyExists) as info:
        svc.handle("StartExecution", {"stateMachineArn": arn, "name": "same", "input": '{"other":1}'})
    assert info.value.message == f"Execution Already Exists: '{first['executionArn']}'"
    svc.handle("StopExecution", {"executionArn": first["executionArn"]})
    with pytest.raises(errors.ExecutionAlreadyExists):
        svc.handle("StartExecution", {"stateMachineArn": arn, "name": "same", "input": "{}"})


def test_stop_and_list_executions(svc):
    arn = create(svc, definition=WAIT)
    names = [svc.handle("StartExecution", {"stateMachineArn": arn})["executionArn"] for _ in range(3)]
    stopped = svc.handle("StopExecution", {"executionArn": names[0], "error": "E", "cause": "C"})
    assert isinstance(stopped["stopDate"], float)
    described = svc.handle("DescribeExecution", {"executionArn": names[0]})
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "E", "C")
    running = svc.handle("ListExecutions", {"stateMachineArn": arn, "statusFilter": "RUNNING"})["executions"]
    assert [e["executionArn"] for e in running] == [names[2], names[1]]
    page = svc.handle("ListExecutions", {"stateMachineArn": arn, "maxResults": 2})
    assert len(page["executions"]) == 2 and "nextToken" in page


def test_execution_errors(svc):
    arn = create(svc)
    with pytest.raises(errors.InvalidExecutionInput):
        svc.handle("StartExecution", {"stateMachineArn": arn, "input": "{nope"})
    with pytest.raises(errors.InvalidName):
        svc.handle("StartExecution", {"stateMachineArn": arn, "name": "a b"})
    with pytest.raises(errors.ExecutionDoesNotExist):
        svc.handle("DescribeExecution", {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:x"})
    with pytest.raises(errors.InvalidArn):
        svc.handle("DescribeExecution", {"executionArn": "nope"})
    with pytest.raises(errors.UnknownOperationException):
        svc.handle("Frobnicate", {})


# helpers' and private names, near misses of operations: handle dispatches from its table, nothing else
@pytest.mark.parametrize("action", ["Required", "_required", "_machine", "_start", "__init__", "__class__", "handle",
                                    "machine_arn", "start_execution", "startExecution", "StartExecution ", "", None])
def test_a_name_that_is_no_operation_is_unknown(svc, action):
    with pytest.raises(errors.UnknownOperationException):
        svc.handle(action, {})


def test_the_operations_are_the_api_models_and_those_the_docs_list():
    model = botocore.session.get_session().get_service_model("stepfunctions")
    assert set(OPERATIONS) <= set(model.operation_names)
    row = next(line for line in (ROOT / "docs" / "engine.md").read_text().splitlines()
               if line.startswith("| API (JSON protocol"))
    listed = {name.strip() for name in row.split("|")[2].replace("StartSyncExecution (Express)", "StartSyncExecution")
              .replace("SendTaskSuccess/Failure/Heartbeat", "SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat")
              .replace("TagResource/UntagResource/ListTagsForResource",
                       "TagResource, UntagResource, ListTagsForResource").split(",")}
    assert listed == set(OPERATIONS)


def test_send_task_success_through_the_api():
    service = StepFunctionsService(Engine(VirtualClock(), Integrations(lambda_invoke=lambda n, p: (b"{}", None))))
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}, "End": True}}}
    arn = create(service, definition=definition)
    execution_arn = service.handle("StartExecution", {"stateMachineArn": arn})["executionArn"]
    execution = service.engine.get(execution_arn)
    for _ in range(500):
        if "TaskSubmitted" in execution.history.types():
            break
        time.sleep(0.002)
    token = json.loads(execution.history.events()[-1]["taskSubmittedEventDetails"]["output"])
    assert token["StatusCode"] == 200
    submitted = [e for e in execution.history.events() if e["type"] == "TaskScheduled"][0]
    real_token = json.loads(submitted["taskScheduledEventDetails"]["parameters"])["Payload"]["t"]
    with pytest.raises(errors.InvalidOutput):
        service.handle("SendTaskSuccess", {"taskToken": real_token, "output": "{bad"})
    service.handle("SendTaskHeartbeat", {"taskToken": real_token})
    service.handle("SendTaskSuccess", {"taskToken": real_token, "output": '{"done":true}'})
    service.engine.wait(execution_arn, 2)
    assert service.handle("DescribeExecution", {"executionArn": execution_arn})["output"] == '{"done":true}'
    with pytest.raises(errors.TaskDoesNotExist):
        service.handle("SendTaskSuccess", {"taskToken": real_token, "output": "{}"})
    service.engine.shutdown()


def test_responses_parse_with_the_boto3_model(svc):
    """Our bodies satisfy botocore's output shapes (types of every field)."""
    from botocore.parsers import create_parser

    arn = create(svc)
    execution_arn = svc.handle("StartExecution", {"stateMachineArn": arn})["executionArn"]
    svc.engine.wait(execution_arn, 2)
    model = boto3.client("stepfunctions", region_name="us-east-1").meta.service_model
    parser = create_parser("json")
    for action, body in (("DescribeExecution", {"executionArn": execution_arn}),
                         ("GetExecutionHistory", {"executionArn": execution_arn}),
                         ("DescribeStateMachine", {"stateMachineArn": arn})):
        response = svc.handle(action, body)
        parsed = parser.parse({"body": json.dumps(response).encode(), "headers": {}, "status_code": 200},
                              model.operation_model(action).output_shape)
        assert "Error" not in parsed, parsed
