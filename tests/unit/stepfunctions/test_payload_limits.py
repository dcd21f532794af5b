"""256 KiB payload quota: a task result, a state output or an execution input over it."""
import json

import pytest
from botocore.exceptions import ClientError

from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock

from .helpers import FakeLambda, fn_arn, run
from .sfn_client import sfn_client

LIMIT = 262144
ROLE = "arn:aws:iam::123456789012:role/sfn"


def test_a_task_result_over_the_limit_fails_even_if_result_path_drops_it():
    definition = {"StartAt": "Big", "States": {"Big": {
        "Type": "Task", "Resource": fn_arn("big"), "ResultPath": None, "End": True,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}, "Caught": {"Type": "Succeed"}}}
    execution = run(definition, {}, {"big": lambda event: "x" * LIMIT})
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED", "States.DataLimitExceeded",
        f"The state/task '{fn_arn('big')}' returned a result with a size exceeding the maximum number of bytes "
        f"service limit.")
    assert "LambdaFunctionSucceeded" not in execution.history.types()


def test_a_result_at_the_limit_is_accepted():
    definition = {"StartAt": "Big", "States": {"Big": {
        "Type": "Task", "Resource": fn_arn("big"), "ResultPath": None, "End": True}}}
    execution = run(definition, {}, {"big": lambda event: "x" * (LIMIT - 2)})  # two quotes: exactly 256 KiB
    assert execution.status == "SUCCEEDED"


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
