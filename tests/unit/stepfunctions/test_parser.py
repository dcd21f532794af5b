import pytest

from local_runtime import errors
from local_runtime.stepfunctions.parser import parse_definition


def invalid(definition) -> str:
    with pytest.raises(errors.InvalidDefinition) as info:
        parse_definition(definition)
    return info.value.message


def test_missing_next_target():
    message = invalid({"StartAt": "Bar", "States": {"Bar": {"Type": "Pass", "Next": "Foo"}}})
    assert message == ("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Foo "
                       "at /States/Bar/Next'")


def test_missing_catch_and_default_targets_and_start_at():
    message = invalid({"StartAt": "Nope", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "T"}], "Default": "X"}}})
    assert "Missing 'Next' target: Nope at /StartAt" in message
    assert "Missing 'Next' target: Gone at /States/T/Catch[0]/Next" in message
    assert "Missing 'Next' target: X at /States/C/Default" in message


def test_state_without_next_or_end():
    assert "Exactly one of these fields is required: [Next, End] at /States/A" in invalid(
        {"StartAt": "A", "States": {"A": {"Type": "Pass"}}})


def test_states_all_must_be_alone_and_last():
    message = invalid({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True,
        "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}})
    assert "States.ALL must appear alone in ErrorEquals and in the last retrier at /States/T/Retry[0]/ErrorEquals" \
        in message


def test_unreachable_state():
    assert "UNREACHABLE_STATE: State \"B\" is not reachable. at /States/B" in invalid(
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}})


def test_bad_paths_and_intrinsics():
    assert "InputPath" in invalid({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "foo",
                                                                    "End": True}}})
    assert "x.$" in invalid({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {
        "x.$": "States.Nope(1)"}, "End": True}}})


def test_nested_branch_is_validated():
    message = invalid({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}]}}})
    assert "Missing 'Next' target: Z at /States/P/Branches[0]/States/A/Next" in message


def test_unknown_field_via_statelint_and_bad_json():
    assert "SCHEMA_VALIDATION_FAILED" in invalid({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                                                                    "Bogus": 1}}})
    assert "INVALID_JSON_DESCRIPTION" in invalid("{not json")


def test_integer_backoff_and_valid_definition_parse():
    program = parse_definition({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
        "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 2}]}}})
    assert program.start_at == "T"


@pytest.mark.parametrize("value", ["2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-13-05T21:29:29Z",
                                   "2016-12-05T25:29:29Z", "05-12-2016T21:29:29Z", "{% $now() %}"])
def test_wait_timestamp_that_is_no_rfc3339_timestamp_is_rejected_in_aws_words(value):
    # AWS answers CreateStateMachine for these Wait Timestamp literals (a JSONata expression in a JSONPath state
    # included): "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp"
    message = invalid({"StartAt": "WaitUntil", "States": {"WaitUntil": {"Type": "Wait", "Timestamp": value,
                                                                          "End": True}}})
    assert message == ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 "
                       "timestamp at /States/WaitUntil/Timestamp'")


def test_wait_timestamp_path_that_is_no_timestamp_fails_with_aws_cause():
    # AWS-recorded: TimestampPath to "2016-12-05 21:29:29Z" -> States.Runtime with this cause
    from .helpers import run
    execution = run({"StartAt": "WaitUntil", "States": {"WaitUntil": {
        "Type": "Wait", "TimestampPath": "$.TimestampValue", "End": True}}}, {"TimestampValue": "2016-12-05 21:29:29Z"})
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED", "States.Runtime",
        "An error occurred while executing the state 'WaitUntil' (entered at the event id #2). The TimestampPath "
        "parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == "
        "2016-12-05 21:29:29Z")
