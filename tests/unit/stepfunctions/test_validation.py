"""Definition validation: CreateStateMachine/UpdateStateMachine reject with InvalidDefinition (HTTP 400, AWS's
message format) and ValidateStateMachineDefinition reports OK/FAIL with diagnostics."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.stepfunctions import validation
from local_runtime.stepfunctions.parser import parse_definition

from .sfn_client import sfn_client

ROLE = "arn:aws:iam::123456789012:role/sfn"
FN = "arn:aws:lambda:us-east-1:123456789012:function:f"


@pytest.fixture()
def sfn():
    service = StepFunctionsService(Engine(VirtualClock(), Integrations()))
    yield sfn_client(service)
    service.engine.shutdown()


def machine(states: dict, start: str = "A") -> str:
    return json.dumps({"StartAt": start, "States": states})


def create_error(sfn, definition: str) -> dict:
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name="m", definition=definition, roleArn=ROLE)
    return info.value.response


def test_create_rejects_a_missing_next_with_aws_error_code_status_and_message(sfn):
    response = create_error(sfn, machine({"A": {"Type": "Pass", "Next": "B"}}))
    assert response["Error"] == {"Code": "InvalidDefinition", "Message": "Invalid State Machine Definition: "
                                 "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_update_rejects_an_invalid_definition_and_keeps_the_old_one(sfn):
    arn = sfn.create_state_machine(name="m", definition=machine({"A": {"Type": "Pass", "End": True}}),
                                   roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=arn, definition=machine({"A": {"Type": "Pass", "End": True},
                                                                         "B": {"Type": "Pass", "End": True}}))
    assert info.value.response["Error"]["Message"] == \
        "Invalid State Machine Definition: 'UNREACHABLE_STATE: State \"B\" is not reachable. at /States/B'"
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == \
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize("states, message", [
    ({"A": {"Type": "Pass", "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": True}},
     "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported by Pass states at /States/A/Retry"),
    ({"A": {"Type": "Wait", "Seconds": 1, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "B"}], "End": True},
      "B": {"Type": "Succeed"}},
     "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported by Wait states at /States/A/Catch"),
    ({"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "B"}], "Default": "B",
            "Retry": [{"ErrorEquals": ["X"]}]}, "B": {"Type": "Succeed"}},
     "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported by Choice states at /States/A/Retry"),
    ({"A": {"Type": "Task", "Resource": FN, "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "B"}, {"ErrorEquals": ["X"], "Next": "B"}]},
      "B": {"Type": "Succeed"}},
     "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in ErrorEquals and in the last catcher at "
     "/States/A/Catch[0]/ErrorEquals"),
    ({"A": {"Type": "Pass", "InputPath": "foo", "End": True}},
     "SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid JSONPath at /States/A/InputPath"),
    ({"A": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $.a"}, "End": True}},
     "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function "
     "call: Expected ',' or ')' at 23 in \"States.Format('{}', $.a\" at /States/A"),
    ({"A": {"Type": "Map", "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Z"}}},
            "End": True}},
     "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/A/ItemProcessor/States/B/Next"),
    ({"A": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}, "C": {"Type": "Pass", "End": True}}}]}},
     "UNREACHABLE_STATE: State \"C\" is not reachable. at /States/A/Branches[0]/States/C"),
    ({"A": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]}},
     "DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A/Branches[0]/States/A"),
    ({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
     "MISSING_END_STATE: The workflow does not have a terminal state at /States"),
    ({"A": {"Type": "Pass", "Foo": 1, "End": True}},
     "SCHEMA_VALIDATION_FAILED: Field \"Foo\" not allowed at /States/A"),
    ({"A": {"Type": "Task", "Resource": FN, "TimeoutSeconds": "x", "End": True}},
     "SCHEMA_VALIDATION_FAILED: The field 'TimeoutSeconds' is \"x\" but should be an Integer at "
     "/States/A/TimeoutSeconds"),
    ({"A": {"Type": "Task", "Resource": FN, "End": True, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "ALL"}]}},
     "SCHEMA_VALIDATION_FAILED: The field 'JitterStrategy' is \"ALL\", not one of the allowed values "
     "[\"FULL\", \"NONE\"] at /States/A/Retry[0]/JitterStrategy"),
])
def test_create_rejects(sfn, states, message):
    assert create_error(sfn, machine(states))["Error"]["Message"] == f"Invalid State Machine Definition: '{message}'"


def test_a_long_state_name_is_invalid():
    name = "N" * 81
    with pytest.raises(errors.InvalidDefinition) as info:
        parse_definition(machine({name: {"Type": "Succeed"}}, start=name))
    assert info.value.message == (f"Invalid State Machine Definition: 'INVALID_STATE_NAME: State name \"{name}\" must "
                                  f"be 1 to 80 characters without control characters at /States/{name}'")


def test_the_same_state_name_twice_in_the_json_text_is_a_duplicate():
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    with pytest.raises(errors.InvalidDefinition) as info:
        parse_definition(text)
    assert info.value.message == \
        "Invalid State Machine Definition: 'DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A'"


def test_the_order_workflow_after_substitution_is_valid(sfn):
    from local_runtime.config import REPO_ROOT

    text = (REPO_ROOT / "statemachine" / "order.asl.json").read_text()
    for key, value in {"ValidateOrderFunctionArn": FN, "StoreOrderFunctionArn": FN,
                       "FulfillmentQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                       "FailedOrdersTableName": "failed", "OrdersTableName": "orders"}.items():
        text = text.replace("${" + key + "}", value)
    response = sfn.validate_state_machine_definition(definition=text, severity="WARNING")
    assert (response["result"], response["diagnostics"], response["truncated"]) == ("OK", [], False)


def test_validate_reports_fail_with_diagnostics(sfn):
    response = sfn.validate_state_machine_definition(definition=machine({"A": {"Type": "Pass", "Next": "B"}}))
    assert response["result"] == "FAIL"
    assert response["diagnostics"] == [{"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET",
                                        "message": "Missing 'Next' target: B", "location": "/States/A/Next"}]
    assert response["truncated"] is False


def test_validate_reports_json_syntax_and_empty_definitions(sfn):
    bad_json = sfn.validate_state_machine_definition(definition='{"StartAt": ')
    assert bad_json["result"] == "FAIL"
    assert bad_json["diagnostics"] == [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                                        "message": "Expecting value: line 1 column 13 (char 12)"}]
    empty = sfn.validate_state_machine_definition(definition=" ")
    assert [d["code"] for d in empty["diagnostics"]] == ["MISSING_DESCRIPTION"]


def test_warnings_only_with_severity_warning_and_they_do_not_fail(sfn):
    definition = machine({
        "A": {"Type": "Pass", "Parameters": {"x": "$.a", "nested": {"y": "States.UUID()"}}, "Next": "B"},
        "B": {"Type": "Pass", "Result": {"z.$": "$.b"}, "Next": "C"},
        "C": {"Type": "Fail", "Error": "$.error"}})
    errors_only = sfn.validate_state_machine_definition(definition=definition)
    assert (errors_only["result"], errors_only["diagnostics"]) == ("OK", [])
    with_warnings = sfn.validate_state_machine_definition(definition=definition, severity="WARNING")
    assert with_warnings["result"] == "OK"
    assert [(d["severity"], d["code"], d["location"]) for d in with_warnings["diagnostics"]] == [
        ("WARNING", "NO_DOLLAR", "/States/A/Parameters/x"),
        ("WARNING", "NO_DOLLAR", "/States/A/Parameters/nested/y"),
        ("WARNING", "PASS_RESULT_IS_STATIC", "/States/B/Result"),
        ("WARNING", "NO_PATH", "/States/C/Error"),
    ]


def test_validate_max_results_truncates(sfn):
    definition = machine({"A": {"Type": "Pass", "Next": "X"}, "B": {"Type": "Pass", "Next": "Y"}})
    full = sfn.validate_state_machine_definition(definition=definition)
    assert [d["code"] for d in full["diagnostics"]] == ["MISSING_TRANSITION_TARGET", "MISSING_TRANSITION_TARGET",
                                                        "UNREACHABLE_STATE"]
    short = sfn.validate_state_machine_definition(definition=definition, maxResults=1)
    assert (short["result"], len(short["diagnostics"]), short["truncated"]) == ("FAIL", 1, True)


def test_validate_rejects_a_bad_severity(sfn):
    with pytest.raises(ClientError) as info:
        sfn.validate_state_machine_definition(definition="{}", severity="INFO")
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_statelint_runs_once_per_definition_hash(monkeypatch):
    calls = []
    real = validation._statelint
    monkeypatch.setattr(validation, "_statelint", lambda document: calls.append(1) or real(document))
    definition = machine({"A": {"Type": "Pass", "Foo": time.time_ns(), "End": True}})  # unique text
    for _ in range(3):
        with pytest.raises(errors.InvalidDefinition):
            parse_definition(definition)
    assert len(calls) == 1
