"""256 KiB payload quota: a task result, a state output or an execution input over it."""
import json

import pytest
from botocore.exceptions import ClientError

from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock

from .helpers import FakeLambda, fn_arn, run
from .sfn_client import sfn_client

LIMIT = 262144
ROLE = "arn:aws:iam::123456789012:role/sfn"


def test_a_task_result_over_the_limit_fails_the_task_even_if_result_path_drops_it():
    # AWS-recorded: a Lambda returning 257 KiB fails its task with States.DataLimitExceeded (LambdaFunctionFailed,
    # cause naming the function ARN); the failure is caught like any task failure, by States.ALL too
    cause = (f"The state/task '{fn_arn('big')}' returned a result with a size exceeding the maximum number of bytes "
             f"service limit.")
    definition = {"StartAt": "Big", "States": {"Big": {
        "Type": "Task", "Resource": fn_arn("big"), "ResultPath": None, "End": True,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}, "Caught": {"Type": "Pass", "End": True}}}
    execution = run(definition, {}, {"big": lambda event: "x" * LIMIT})
    assert execution.status == "SUCCEEDED"
    assert json.loads(execution.output) == {"Error": "States.DataLimitExceeded", "Cause": cause}
    assert execution.history.types() == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                         "LambdaFunctionStarted", "LambdaFunctionFailed", "TaskStateExited",
                                         "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    failed = [e for e in execution.history.events() if e["type"] == "LambdaFunctionFailed"][0]
    assert failed["lambdaFunctionFailedEventDetails"] == {"error": "States.DataLimitExceeded", "cause": cause}

    uncaught = {"StartAt": "Big", "States": {"Big": {"Type": "Task", "Resource": fn_arn("big"), "End": True}}}
    execution = run(uncaught, {}, {"big": lambda event: "x" * LIMIT})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "States.DataLimitExceeded", cause)


def test_a_service_task_result_over_the_limit_names_the_service():
    # AWS-recorded: arn:aws:states:::lambda:invoke returning 257 KiB -> TaskFailed (resourceType lambda, resource
    # invoke), cause "The state/task 'lambda' returned a result ...", caught by a States.DataLimitExceeded catcher
    cause = "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."
    definition = {"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"}, "Next": "Done",
                   "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Handle"},
                             {"ErrorEquals": ["States.ALL"], "Next": "Other"}]},
        "Done": {"Type": "Pass", "End": True}, "Handle": {"Type": "Pass", "End": True},
        "Other": {"Type": "Pass", "End": True}}}
    execution = run(definition, {"FunctionName": "big", "Payload": None}, {"big": lambda event: "a" * (257 * 1024)})
    assert json.loads(execution.output) == {"Error": "States.DataLimitExceeded", "Cause": cause}
    failed = [e for e in execution.history.events() if e["type"] == "TaskFailed"][0]
    assert failed["taskFailedEventDetails"] == {"resourceType": "lambda", "resource": "invoke",
                                                "error": "States.DataLimitExceeded", "cause": cause}
    assert [e["stateEnteredEventDetails"]["name"] for e in execution.history.events()
            if e["type"] == "PassStateEntered"] == ["Handle"]


def test_a_result_at_the_limit_is_accepted():
    definition = {"StartAt": "Big", "States": {"Big": {
        "Type": "Task", "Resource": fn_arn("big"), "ResultPath": None, "End": True}}}
    execution = run(definition, {}, {"big": lambda event: "x" * (LIMIT - 2)})  # two quotes: exactly 256 KiB
    assert execution.status == "SUCCEEDED"


def test_task_parameters_over_the_limit_fail_the_state_before_the_call():
    called = []
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": fn_arn("f"), "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": True}}}
    execution = run(definition, {"s": "y" * (LIMIT // 2)}, {"f": called.append})
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED", "States.DataLimitExceeded",
        "The state/task 'T' input exceeds the maximum number of bytes service limit.")
    assert execution.history.types() == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert called == []


def test_a_state_output_over_the_limit_fails():
    definition = {"StartAt": "Grow", "States": {"Grow": {
        "Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": True}}}
    execution = run(definition, {"s": "y" * (LIMIT // 2)})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")


def test_an_execution_input_over_the_limit_is_rejected_at_start():
    service = StepFunctionsService(Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=FakeLambda({}))))
    sfn = sfn_client(service)
    arn = sfn.create_state_machine(name="m", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps("z" * LIMIT))
    assert info.value.response["Error"] == {
        "Code": "InvalidExecutionInput",
        "Message": "Invalid State Machine Execution Input: 'The input exceeds the maximum number of bytes'"}
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []
    service.engine.shutdown()
