"""Mocked service integrations in Step Functions Local's MockConfigFile format: test cases chosen with
``<state machine ARN>#<test case>``, per-invocation Return/Throw, Retry and Catch on mocked errors, history events
as for a real task, the config from Engine(mock_config=...) or $SFN_MOCK_CONFIG."""
import json

import pytest
from botocore.exceptions import ClientError

from local_runtime.config import REPO_ROOT
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.stepfunctions.mocks import MockConfig, MockConfigError

from .helpers import FakeLambda, fn_arn
from .sfn_client import sfn_client

ROLE = "arn:aws:iam::123456789012:role/sfn"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:machine"
ORDER_MOCKS = REPO_ROOT / "statemachine" / "test" / "MockConfigFile.json"

RETRY_CATCH = {"StartAt": "Call", "States": {
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "work", "Payload.$": "$"},
             "ResultSelector": {"value.$": "$.Payload"}, "ResultPath": "$.call",
             "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2}],
             "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.error", "Next": "Handled"}],
             "Next": "Direct"},
    "Direct": {"Type": "Task", "Resource": fn_arn("direct"), "End": True},
    "Handled": {"Type": "Pass", "End": True}}}

CONFIG = {
    "StateMachines": {"machine": {"TestCases": {
        "Happy": {"Call": "Works"},
        "RetryThenWork": {"Call": "TwoFailuresThenWorks"},
        "Caught": {"Call": "Broken"},
        "RunsOut": {"Call": "OneFailureOnly"},
        "BothMocked": {"Call": "Works", "Direct": "DirectWorks"}}}},
    "MockedResponses": {
        "Works": {"0": {"Return": {"StatusCode": 200, "Payload": {"n": 1}}}},
        "TwoFailuresThenWorks": {
            "0-1": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}},
            "2": {"Return": {"StatusCode": 200, "Payload": {"n": 3}}}},
        "Broken": {"0": {"Throw": {"Error": "Broken", "Cause": "it broke"}}},
        "OneFailureOnly": {"0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}}},
        "DirectWorks": {"0": {"Return": {"direct": "mocked"}}}},
}


def engine_with(config=CONFIG, functions=None) -> tuple[Engine, FakeLambda]:
    fake = FakeLambda(functions or {"direct": lambda event: {"direct": "real"}, "work": lambda event: {"n": 0}})
    return Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=fake), mock_config=config), fake


def run_case(engine: Engine, test_case: str | None, definition=RETRY_CATCH, data=None, name="e"):
    program = engine.compile(json.dumps(definition))
    return engine.run_sync(program, arn=f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}", name=name,
                           state_machine_arn=MACHINE_ARN, state_machine_name="machine",
                           input_text=json.dumps(data or {"id": 7}), test_case=test_case)


def events(execution) -> list[dict]:
    return execution.history.events()


def test_a_mocked_task_returns_its_mocked_result_and_the_unmocked_task_calls_its_integration():
    engine, fake = engine_with()
    execution = run_case(engine, "Happy")
    assert execution.status == "SUCCEEDED"
    assert json.loads(execution.output) == {"direct": "real"}
    assert fake.calls == [("direct", {"id": 7, "call": {"value": {"n": 1}}})]  # "work" was never invoked


def test_a_mocked_task_records_the_history_events_of_a_real_task():
    engine, _ = engine_with()
    history = events(run_case(engine, "BothMocked"))
    assert [e["type"] for e in history] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    assert history[2]["taskScheduledEventDetails"] == {
        "resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
        "parameters": '{"FunctionName":"work","Payload":{"id":7}}'}
    assert history[4]["taskSucceededEventDetails"] == {
        "resourceType": "lambda", "resource": "invoke", "output": '{"StatusCode":200,"Payload":{"n":1}}',
        "outputDetails": {"truncated": False}}
    assert history[9]["lambdaFunctionSucceededEventDetails"] == {
        "output": '{"direct":"mocked"}', "outputDetails": {"truncated": False}}
    assert history[-1]["executionSucceededEventDetails"]["output"] == '{"direct":"mocked"}'


def test_mocked_errors_drive_retry_then_the_next_invocation_succeeds():
    engine, fake = engine_with()
    execution = run_case(engine, "RetryThenWork")
    assert execution.status == "SUCCEEDED"
    types = [e["type"] for e in events(execution)]
    assert types[:11] == ["ExecutionStarted", "TaskStateEntered",
                          "TaskScheduled", "TaskStarted", "TaskFailed",
                          "TaskScheduled", "TaskStarted", "TaskFailed",
                          "TaskScheduled", "TaskStarted", "TaskSucceeded"]
    failed = events(execution)[4]["taskFailedEventDetails"]
    assert failed == {"resourceType": "lambda", "resource": "invoke", "error": "Lambda.ServiceException",
                      "cause": "try again"}
    assert fake.calls == [("direct", {"id": 7, "call": {"value": {"n": 3}}})]
    # retries waited 1 s then 2 s on the virtual clock
    assert (execution.stop_date - execution.start_date).total_seconds() == 3


def test_a_mocked_error_is_caught_like_a_real_one():
    engine, _ = engine_with()
    execution = run_case(engine, "Caught")
    assert execution.status == "SUCCEEDED"
    assert json.loads(execution.output) == {"id": 7, "error": {"Error": "Broken", "Cause": "it broke"}}


def test_an_invocation_without_a_mocked_response_fails_the_execution():
    engine, _ = engine_with()
    execution = run_case(engine, "RunsOut")
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'Call' (entered at the event id #2). The mocked response "
        "'OneFailureOnly' of test case 'RunsOut' has no answer for invocation 1 of state 'Call'")


def test_map_iterations_share_the_invocation_counter():
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Get", "States": {
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "t", "Key": {"id": {"S.$": "$"}}}, "OutputPath": "$.Item",
                    "End": True}}}}}}
    config = {"StateMachines": {"machine": {"TestCases": {"Items": {"Get": "Rows"}}}},
              "MockedResponses": {"Rows": {"0": {"Return": {"Item": "first"}},
                                           "1-2": {"Return": {"Item": "later"}}}}}
    engine, _ = engine_with(config)
    execution = run_case(engine, "Items", definition, data=["a", "b", "c"])
    assert json.loads(execution.output) == ["first", "later", "later"]


def test_no_test_case_means_no_mocks():
    engine, fake = engine_with()
    execution = run_case(engine, None)
    assert json.loads(execution.output) == {"direct": "real"}
    assert [name for name, _ in fake.calls] == ["work", "direct"]


def test_the_config_is_read_from_sfn_mock_config(tmp_path, monkeypatch):
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(CONFIG))
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(path))
    engine = Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=FakeLambda({})))
    assert engine.mock_config.test_cases("machine") == ["Happy", "RetryThenWork", "Caught", "RunsOut", "BothMocked"]
    execution = run_case(engine, "BothMocked")
    assert json.loads(execution.output) == {"direct": "mocked"}


def test_without_a_config_a_test_case_is_an_error(monkeypatch):
    monkeypatch.delenv("SFN_MOCK_CONFIG", raising=False)
    engine = Engine(VirtualClock(auto_advance=True), Integrations())
    assert engine.mock_config is None
    with pytest.raises(MockConfigError) as info:
        run_case(engine, "Happy")
    assert str(info.value) == "Test case 'Happy' needs a mock config (Engine(mock_config=...) or $SFN_MOCK_CONFIG)"


@pytest.mark.parametrize("responses, message", [
    ({"R": {"first": {"Return": 1}}},
     "mock config: MockedResponses.R: 'first' is not an invocation number or an inclusive range such as '1-2'"),
    ({"R": {"2-1": {"Return": 1}}}, "mock config: MockedResponses.R: the range '2-1' ends before it starts"),
    ({"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}, "mock config: MockedResponses.R: invocation 2 is mocked twice"),
    ({"R": {"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "C"}}}},
     "mock config: MockedResponses.R.0 must hold exactly one field, 'Return' or 'Throw'"),
    ({"R": {"0": {"Throw": {"Error": "E"}}}},
     "mock config: MockedResponses.R.0.Throw must be an object with string fields 'Error' and 'Cause'"),
])
def test_malformed_mocked_responses_are_rejected(responses, message):
    with pytest.raises(MockConfigError) as info:
        MockConfig({"StateMachines": {}, "MockedResponses": responses})
    assert str(info.value) == message


def test_a_test_case_naming_an_undefined_response_is_rejected():
    with pytest.raises(MockConfigError) as info:
        MockConfig({"StateMachines": {"m": {"TestCases": {"T": {"S": "Nope"}}}}, "MockedResponses": {}})
    assert str(info.value) == ("mock config: test case m.T names the mocked response 'Nope' for state 'S', which "
                               "MockedResponses does not define")


def test_a_missing_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(MockConfigError) as info:
        MockConfig.from_file(tmp_path / "absent.json")
    assert str(info.value).startswith(f"{tmp_path / 'absent.json'}: cannot read the mock config: ")


# -- through the API, as with Step Functions Local ---------------------------------------------------------------

@pytest.fixture()
def service():
    engine, _ = engine_with()
    svc = StepFunctionsService(engine)
    yield svc
    engine.shutdown()


def test_start_execution_with_a_test_case_suffix(service):
    sfn = sfn_client(service)
    arn = sfn.create_state_machine(name="machine", definition=json.dumps(RETRY_CATCH), roleArn=ROLE)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=f"{arn}#Caught", name="caught", input='{"id": 1}')
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:machine:caught"
    service.engine.wait(started["executionArn"], 5)
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert (described["status"], described["stateMachineArn"]) == ("SUCCEEDED", arn)
    assert json.loads(described["output"]) == {"id": 1, "error": {"Error": "Broken", "Cause": "it broke"}}


def test_an_unknown_test_case_is_rejected_at_start(service):
    sfn = sfn_client(service)
    arn = sfn.create_state_machine(name="machine", definition=json.dumps(RETRY_CATCH), roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=f"{arn}#Nope")
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "The mock config has no test case 'Nope' for state machine 'machine'"}


# -- the app's order workflow with statemachine/test/MockConfigFile.json ----------------------------------------

@pytest.fixture(scope="module")
def order_definition() -> str:
    """The order workflow as the local runtime creates it: the template's DefinitionSubstitutions applied."""
    from local_runtime.template import load_template, render_definition

    stack = load_template(REPO_ROOT / "template.yaml")
    (resource,) = [r for r in stack.of_type("AWS::StepFunctions::StateMachine") if r.logical_id == "OrderStateMachine"]
    assert resource.attributes["Name"] == "dofs-order"  # the name the mock config's StateMachines entry uses
    return render_definition(resource)


@pytest.fixture()
def order(order_definition):
    """Runs a test case of the example mock file; no Lambda runtime or AWS client exists, so every call is mocked."""
    engine = Engine(VirtualClock(auto_advance=True), Integrations(), mock_config=ORDER_MOCKS)
    sfn = sfn_client(StepFunctionsService(engine))
    arn = sfn.create_state_machine(name="dofs-order", definition=order_definition, roleArn=ROLE)["stateMachineArn"]

    def run(test_case: str) -> tuple[dict, list[dict]]:
        started = sfn.start_execution(stateMachineArn=f"{arn}#{test_case}", name=f"ORDER-MOCK-0001-{test_case}",
                                      input=(REPO_ROOT / "events" / "execution_input.json").read_text())
        engine.wait(started["executionArn"], 10)
        return (sfn.describe_execution(executionArn=started["executionArn"]),
                sfn.get_execution_history(executionArn=started["executionArn"])["events"])

    yield run
    engine.shutdown()


def entered(history: list[dict]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]


def scheduled(history: list[dict], resource: str) -> list[dict]:
    return [json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in history
            if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == resource]


def test_order_happy_path(order):
    described, history = order("HappyPath")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"order_id": "ORDER-MOCK-0001", "status": "ACCEPTED",
                                               "total_cents": 2248, "charge_id": "ch_mock_0001",
                                               "message_id": "6a1b2c3d-0000-4000-8000-000000000001"}
    assert "CheckApprovalNeeded" in entered(history) and "AwaitApproval" not in entered(history)
    (message,) = scheduled(history, "sendMessage")
    assert message["MessageBody"]["order"]["order_id"] == "ORDER-MOCK-0001"
    (confirmation,) = scheduled(history, "publish")
    assert confirmation["Message"] == ("Order ORDER-MOCK-0001 confirmed: 2248 cents charged (ch_mock_0001); "
                                       "fulfillment is queued.")


def test_order_retry_path_retries_throttling_twice(order):
    described, history = order("RetryPath")
    assert described["status"] == "SUCCEEDED"
    first_task = [e["type"] for e in history][2:11]
    assert first_task == ["TaskScheduled", "TaskStarted", "TaskFailed", "TaskScheduled", "TaskStarted", "TaskFailed",
                          "TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert history[4]["taskFailedEventDetails"]["error"] == "Lambda.TooManyRequestsException"


def test_order_rejection_records_the_reason_and_fails(order):
    described, history = order("RejectedOrder")
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "OrderRejected", "InsufficientStockError: SKU-002: 2 requested, 1 in stock")
    puts = scheduled(history, "putItem")
    reason = {"S": "InsufficientStockError: SKU-002: 2 requested, 1 in stock"}
    assert [p["Item"]["reason"] for p in puts] == [reason, reason]
    assert puts[1]["Item"]["status"] == {"S": "FAILED"}
    assert "StoreOrder" not in entered(history)
    (event,) = scheduled(history, "putEvents")
    assert event["Entries"][0]["DetailType"] == "OrderFailed"


def test_order_duplicate_fails_as_duplicate(order):
    described, history = order("DuplicateOrder")
    assert (described["status"], described["error"]) == ("FAILED", "DuplicateOrder")
    assert entered(history) == ["ValidateOrder", "StoreOrder", "DuplicateOrder"]
