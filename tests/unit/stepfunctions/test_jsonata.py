"""JSONata states: QueryLanguage, Arguments/Output, $states, expression fields, QueryEvaluationError, validation."""
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from local_runtime import errors
from local_runtime.stepfunctions import VirtualClock
from local_runtime.stepfunctions.jsonata_states import MapRunSettings
from local_runtime.stepfunctions.parser import parse_definition

from .helpers import fn_arn, make_engine, output, run, run_on

J = "JSONata"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def jsonata(states: dict, start: str | None = None) -> dict:
    return {"QueryLanguage": J, "StartAt": start or next(iter(states)), "States": states}


def events(execution, *types: str) -> list[dict]:
    return [e for e in execution.history.events() if not types or e["type"] in types]


def details(event: dict) -> dict:
    return next(v for k, v in event.items() if k.endswith("EventDetails"))


# -- Output, Arguments, $states ---------------------------------------------------------------------------------


def test_pass_output_evaluates_expressions_at_any_depth():
    definition = jsonata({"A": {"Type": "Pass", "End": True, "Output": {
        "total": "{% $sum($states.input.lines.(price * qty)) %}",
        "skus": ["{% $states.input.lines[0].sku %}", "static", "{% $uppercase($states.input.lines[1].sku) %}"],
        "literal": "not {% an expression %}",
        "name": "{% $states.context.Execution.Name %}"}}})
    data = {"lines": [{"sku": "a-1", "price": 5, "qty": 2}, {"sku": "b-2", "price": 1.5, "qty": 4}]}
    assert output(run(definition, data)) == {"total": 16, "skus": ["a-1", "static", "B-2"],
                                             "literal": "not {% an expression %}", "name": "exec"}


def test_pass_without_output_passes_its_input_and_a_whole_string_output_may_be_any_value():
    definition = jsonata({"A": {"Type": "Pass", "Next": "B"},
                          "B": {"Type": "Pass", "Output": "{% $states.input.n %}", "End": True}})
    assert output(run(definition, {"n": [1, 2]})) == [1, 2]
    assert output(run(definition, {"n": None})) is None  # JSON null is a value, not "undefined"


def test_task_arguments_go_to_the_function_and_output_sees_result_and_input():
    seen = []

    def price(event):
        seen.append(event)
        return {"cents": event["qty"] * 250}

    definition = jsonata({"Quote": {
        "Type": "Task", "Resource": fn_arn("price"), "End": True,
        "Arguments": {"sku": "{% $states.input.sku %}", "qty": "{% $states.input.qty %}", "currency": "EUR"},
        "Output": {"sku": "{% $states.input.sku %}", "total": "{% $states.result.cents / 100 %}"}}})
    execution = run(definition, {"sku": "a-1", "qty": 3, "noise": True}, functions={"price": price})
    assert output(execution) == {"sku": "a-1", "total": 7.5}
    assert seen == [{"sku": "a-1", "qty": 3, "currency": "EUR"}]
    scheduled = details(events(execution, "LambdaFunctionScheduled")[0])
    assert json.loads(scheduled["input"]) == {"sku": "a-1", "qty": 3, "currency": "EUR"}


def test_task_defaults_input_as_arguments_and_result_as_output():
    definition = jsonata({"T": {"Type": "Task", "Resource": fn_arn("echo"), "End": True}})
    execution = run(definition, {"a": 1}, functions={"echo": lambda event: {"got": event}})
    assert output(execution) == {"got": {"a": 1}}


def test_jsonata_state_inside_a_jsonpath_machine():
    definition = {"StartAt": "Narrow", "States": {
        "Narrow": {"Type": "Pass", "InputPath": "$.order", "Next": "Shape"},
        "Shape": {"Type": "Pass", "QueryLanguage": J, "Output": {"id": "{% $states.input.id %}"}, "Next": "Place"},
        "Place": {"Type": "Pass", "Result": "ok", "ResultPath": "$.status", "End": True}}}
    assert output(run(definition, {"order": {"id": "o-1", "x": 1}})) == {"id": "o-1", "status": "ok"}


def test_parallel_arguments_and_branches_inherit_jsonata():
    definition = jsonata({"P": {
        "Type": "Parallel", "End": True, "Arguments": {"n": "{% $states.input.n * 10 %}"},
        "Branches": [
            {"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": True}}},
            {"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": True}}}],
        "Output": {"sum": "{% $states.result[0] %}", "same": "{% $states.result[1] %}"}}})
    assert output(run(definition, {"n": 4})) == {"sum": 41, "same": {"n": 40}}


def test_map_items_item_selector_and_context():
    definition = jsonata({"M": {
        "Type": "Map", "End": True, "Items": "{% $states.input.orders[status = 'new'] %}",
        "ItemSelector": {"id": "{% $states.context.Map.Item.Value.id %}",
                         "index": "{% $states.context.Map.Item.Index %}",
                         "region": "{% $states.input.region %}"},
        "ItemProcessor": {"StartAt": "Tag", "States": {"Tag": {
            "Type": "Pass", "End": True,
            "Output": "{% $states.input.region & '/' & $states.input.id & '#' & $string($states.input.index) %}"}}}}})
    data = {"region": "eu", "orders": [{"id": "a", "status": "new"}, {"id": "b", "status": "old"},
                                       {"id": "c", "status": "new"}]}
    assert output(run(definition, data)) == ["eu/a#0", "eu/c#1"]


def test_map_items_may_be_a_literal_array_with_expressions():
    definition = jsonata({"M": {"Type": "Map", "End": True, "Items": [1, "{% $states.input.x %}"],
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}})
    assert output(run(definition, {"x": "two"})) == [1, "two"]


def test_map_items_that_are_not_an_array_fail_with_query_evaluation_error():
    definition = jsonata({"M": {"Type": "Map", "End": True, "Items": "{% $states.input %}",
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}})
    execution = run(definition, {"a": 1})
    assert execution.status == "FAILED"
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause == ("An error occurred while executing the state 'M' (entered at the event id #2). The "
                               "JSONata expression '$states.input' specified for the field 'Items' returned an "
                               "unexpected result type. Expected 'array', but was 'object' for value: {\"a\":1}")
    # AWS-recorded: EvaluationFailed (location Items) then MapStateFailed, then ExecutionFailed
    assert execution.history.types() == ["ExecutionStarted", "MapStateEntered", "EvaluationFailed", "MapStateFailed",
                                         "ExecutionFailed"]


def test_map_input_that_is_not_an_array_fails_in_aws_words():
    # AWS-recorded: a JSONata Map without Items whose input is {"foo": "bar"} records EvaluationFailed with no
    # location, "Map state input must be an array but was: {"foo":"bar"}", then MapStateFailed
    definition = jsonata({"M": {"Type": "Map", "End": True,
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}})
    for value, shown in [({"foo": "bar"}, '{"foo":"bar"}'), ("string", '"string"'), (True, "true"), (7, "7")]:
        execution = run(definition, value)
        cause = ("An error occurred while executing the state 'M' (entered at the event id #2). Map state input must "
                 f"be an array but was: {shown}")
        assert (execution.status, execution.error, execution.cause) == ("FAILED", "States.QueryEvaluationError",
                                                                        cause)
        assert execution.history.types() == ["ExecutionStarted", "MapStateEntered", "EvaluationFailed",
                                             "MapStateFailed", "ExecutionFailed"]
        assert details(events(execution, "EvaluationFailed")[0]) == {
            "error": "States.QueryEvaluationError", "cause": cause, "state": "M"}


def test_map_tolerated_failure_count_expression():
    definition = jsonata({"M": {
        "Type": "Map", "End": True, "ToleratedFailureCount": "{% $states.input.allowed %}",
        "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input < 0 %}", "Next": "Bad"}],
                  "Default": "Good"},
            "Bad": {"Type": "Fail", "Error": "Negative", "Cause": "below zero"},
            "Good": {"Type": "Pass", "End": True}}},
        "Items": "{% $states.input.values %}"}})
    assert output(run(definition, {"allowed": 1, "values": [1, -1, 2]})) == [
        1, {"Error": "Negative", "Cause": "below zero"}, 2]
    failed = run(definition, {"allowed": 0, "values": [1, -1, 2]})
    assert (failed.status, failed.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_map_tolerates_failures_from_its_run_values_not_the_state_expressions():
    def map_state(query_language: str, **fields):
        definition = {"QueryLanguage": query_language, "StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True, **fields,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
        return parse_definition(definition).states["M"]

    assert map_state("JSONPath").tolerates_failures is False
    assert map_state("JSONPath", ToleratedFailureCount=0).tolerates_failures is True
    assert map_state("JSONPath", ToleratedFailurePercentage=0).tolerates_failures is True
    state = map_state(J, ToleratedFailureCount="{% $states.input.allowed %}")
    assert state.tolerates_failures is True  # the state holds the expression
    assert MapRunSettings(state, None, None).tolerates_failures is False  # one run: what the expressions gave
    assert MapRunSettings(state, 0, None).tolerates_failures is True
    assert MapRunSettings(state, None, 5).tolerated(1, 20) is True
    assert MapRunSettings(state, None, 5).tolerated(2, 20) is False


# -- Choice, Wait, Fail, Task timeouts --------------------------------------------------------------------------


CHOICE = jsonata({
    "Route": {"Type": "Choice", "Default": "Small",
              "Choices": [{"Condition": "{% $states.input.total >= 100 %}", "Next": "Large",
                           "Output": {"size": "large", "total": "{% $states.input.total %}"}}],
              "Output": {"size": "small"}},
    "Large": {"Type": "Succeed"},
    "Small": {"Type": "Succeed"}})


def test_choice_condition_picks_the_rule_and_its_output():
    execution = run(CHOICE, {"total": 120})
    assert output(execution) == {"size": "large", "total": 120}
    assert [details(e)["name"] for e in events(execution, "SucceedStateEntered")] == ["Large"]


def test_choice_default_takes_the_state_output():
    execution = run(CHOICE, {"total": 3})
    assert output(execution) == {"size": "small"}
    assert [details(e)["name"] for e in events(execution, "SucceedStateEntered")] == ["Small"]


def test_choice_without_match_or_default_fails():
    definition = jsonata({"C": {"Type": "Choice", "Choices": [{"Condition": "{% false %}", "Next": "D"}]},
                          "D": {"Type": "Succeed"}})
    execution = run(definition, {})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "States.NoChoiceMatched", "No Matches!")


def test_choice_condition_must_give_a_boolean():
    definition = jsonata({"C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.flag %}",
                                                               "Next": "D"}], "Default": "D"},
                          "D": {"Type": "Succeed"}})
    execution = run(definition, {"flag": "yes"})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause.endswith("The JSONata expression '$states.input.flag' specified for the field "
                                    "'Choices[0]/Condition' returned an unexpected result type. Expected 'boolean', but was "
                                    "'string' for value: \"yes\"")


def test_wait_seconds_expression_waits_that_long():
    definition = jsonata({"W": {"Type": "Wait", "Seconds": "{% $states.input.delay * 2 %}", "End": True,
                                "Output": {"waited": "{% $states.input.delay * 2 %}"}}})
    execution = run(definition, {"delay": 15}, clock=VirtualClock(START, auto_advance=True))
    assert output(execution) == {"waited": 30}
    entered, exited = events(execution, "WaitStateEntered", "WaitStateExited")
    assert exited["timestamp"] - entered["timestamp"] == timedelta(seconds=30)


def test_wait_timestamp_expression_waits_until_then():
    definition = jsonata({"W": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "End": True}})
    execution = run(definition, {"at": "2025-01-01T00:05:00Z"}, clock=VirtualClock(START, auto_advance=True))
    assert output(execution) == {"at": "2025-01-01T00:05:00Z"}
    exited = events(execution, "WaitStateExited")[0]
    assert exited["timestamp"] == START + timedelta(minutes=5)


def test_wait_seconds_expression_must_be_a_non_negative_integer():
    definition = jsonata({"W": {"Type": "Wait", "Seconds": "{% $states.input.delay %}", "End": True}})
    execution = run(definition, {"delay": -1})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause.endswith("specified for the field 'Seconds' returned an unexpected result type. "
                                    "Expected 'integer', but was 'number' for value: -1")


def test_task_timeout_and_heartbeat_expressions_reach_the_history():
    definition = jsonata({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                                "Arguments": {"FunctionName": "echo", "Payload": {"x": 1}},
                                "TimeoutSeconds": "{% $states.input.limit %}",
                                "HeartbeatSeconds": "{% $states.input.limit - 10 %}",
                                "Output": "{% $states.result.Payload %}"}})
    execution = run(definition, {"limit": 60}, functions={"echo": lambda event: event})
    assert output(execution) == {"x": 1}
    scheduled = details(events(execution, "TaskScheduled")[0])
    assert (scheduled["timeoutInSeconds"], scheduled["heartbeatInSeconds"]) == (60, 50)


def test_fail_error_and_cause_expressions():
    definition = jsonata({"F": {"Type": "Fail", "Error": "{% 'Order.' & $states.input.code %}",
                                "Cause": "{% 'order ' & $states.input.id & ' rejected' %}"}})
    execution = run(definition, {"code": "Rejected", "id": "o-9"})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "Order.Rejected", "order o-9 rejected")


# -- errors -----------------------------------------------------------------------------------------------------


def test_evaluation_error_records_evaluation_failed_and_fails_the_execution():
    definition = jsonata({"A": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "End": True}})
    execution = run(definition, {"a": "x"})
    cause = ("An error occurred while executing the state 'A' (entered at the event id #2). The JSONata expression "
             "'$states.input.a + 1' specified for the field 'Output' threw an error during evaluation. T2001: The left "
             "side of the + operator must evaluate to a number")
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "States.QueryEvaluationError", cause)
    assert execution.history.types() == ["ExecutionStarted", "PassStateEntered", "EvaluationFailed",
                                         "ExecutionFailed"]
    failed = events(execution, "EvaluationFailed")[0]
    assert failed["previousEventId"] == 0  # as AWS records it; ExecutionFailed follows it
    assert events(execution, "ExecutionFailed")[0]["previousEventId"] == failed["id"]
    assert details(failed) == {"error": "States.QueryEvaluationError", "cause": cause, "location": "Output",
                               "state": "A"}


def test_an_undefined_result_is_an_error():
    definition = jsonata({"A": {"Type": "Pass", "Output": {"v": "{% $states.input.missing %}"}, "End": True}})
    execution = run(definition, {})
    assert execution.error == "States.QueryEvaluationError"
    # AWS names the field by its path in the state (an AWS execution's cause: "... specified for the field
    # 'Arguments/Input/pushLocation' returned nothing (undefined).")
    assert execution.cause.endswith("The JSONata expression '$states.input.missing' specified for the field "
                                    "'Output/v' returned nothing (undefined).")
    assert details(events(execution, "EvaluationFailed")[0])["location"] == "Output/v"


def test_an_unknown_function_fails_with_jsonatas_code():
    # AWS-recorded: $randomSeeded is no function of Step Functions' JSONata
    definition = jsonata({"State_0": {"Type": "Pass", "End": True, "Output": {
        "FunctionResult": "{% $randomSeeded($states.input.FunctionInput.fst) %}"}}})
    execution = run(definition, {"FunctionInput": "fst"})
    assert (execution.error, execution.cause) == (
        "States.QueryEvaluationError",
        "An error occurred while executing the state 'State_0' (entered at the event id #2). The JSONata expression "
        "'$randomSeeded($states.input.FunctionInput.fst)' specified for the field 'Output/FunctionResult' threw an "
        "error during evaluation. T1006: Attempted to invoke a non-function")


def test_a_one_value_range_is_the_value():
    definition = jsonata({"A": {"Type": "Pass", "Output": {"one": "{% $range(1, 9, 9) %}",
                                                            "many": "{% $range(1, 9, 4) %}"}, "End": True}})
    assert output(run(definition, {})) == {"one": 1, "many": [1, 5, 9]}


def test_a_constant_choice_condition_is_accepted():
    definition = jsonata({"C": {"Type": "Choice", "Choices": [{"Condition": True, "Next": "D"}]},
                          "D": {"Type": "Succeed"}})
    assert output(run(definition, {"x": 1})) == {"x": 1}


def test_a_function_result_is_an_error():
    definition = jsonata({"A": {"Type": "Pass", "Output": "{% function($x) { $x } %}", "End": True}})
    execution = run(definition, {})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause.endswith("returned an unsupported result type.")


def test_query_evaluation_error_is_caught_with_catch_output_and_assign():
    calls = []
    definition = jsonata({
        "Charge": {"Type": "Task", "Resource": fn_arn("charge"), "Next": "Done",
                   "Arguments": {"cents": "{% $states.input.amount * 100 %}"},
                   "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Recover",
                              "Assign": {"reason": "{% $states.errorOutput.Error %}"},
                              "Output": {"input": "{% $states.input %}",
                                         "failed": "{% $contains($states.errorOutput.Cause, 'Arguments') %}"}}]},
        "Recover": {"Type": "Pass", "End": True, "Output": {"why": "{% $reason %}", "got": "{% $states.input %}"}},
        "Done": {"Type": "Succeed"}})
    execution = run(definition, {"amount": "ten"}, functions={"charge": calls.append})
    assert output(execution) == {"why": "States.QueryEvaluationError",
                                 "got": {"input": {"amount": "ten"}, "failed": True}}
    assert calls == []
    assert execution.history.types()[:4] == ["ExecutionStarted", "TaskStateEntered", "EvaluationFailed",
                                             "TaskStateExited"]


def test_catch_without_output_passes_the_error_output():
    def boom(event):
        raise ValueError("no stock")

    definition = jsonata({"T": {"Type": "Task", "Resource": fn_arn("boom"), "End": True,
                                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}]},
                          "After": {"Type": "Pass", "End": True}})
    result = output(run(definition, {}, functions={"boom": boom}))
    assert result["Error"] == "ValueError"
    assert json.loads(result["Cause"])["errorMessage"] == "no stock"


def retried(failures: int, retrier: dict) -> tuple[timedelta, int]:
    """A JSONata Task whose function fails ``failures`` times with RuntimeError, retried by ``retrier``: the time
    the Task took (virtual) and how many calls it made."""
    attempts = []

    def flaky(event):
        attempts.append(event)
        if len(attempts) <= failures:
            raise RuntimeError("busy")
        return "ok"

    definition = jsonata({"T": {"Type": "Task", "Resource": fn_arn("flaky"), "End": True,
                                "Retry": [{"ErrorEquals": ["RuntimeError"], **retrier}]}})
    execution = run(definition, {}, functions={"flaky": flaky}, clock=VirtualClock(START, auto_advance=True))
    assert output(execution) == "ok"
    entered, exited = events(execution, "TaskStateEntered", "TaskStateExited")
    return exited["timestamp"] - entered["timestamp"], len(attempts)


def test_retry_caps_the_delay_with_max_delay_seconds():
    took, calls = retried(3, {"IntervalSeconds": 2, "BackoffRate": 10, "MaxAttempts": 3, "MaxDelaySeconds": 5,
                              "JitterStrategy": "NONE"})
    assert (took, calls) == (timedelta(seconds=2 + 5 + 5), 4)


def test_retry_full_jitter_waits_at_most_the_capped_delay():
    took, calls = retried(2, {"IntervalSeconds": 4, "BackoffRate": 2, "MaxDelaySeconds": 6, "JitterStrategy": "FULL"})
    assert timedelta(0) <= took <= timedelta(seconds=4 + 6)
    assert calls == 3


# -- the functions Step Functions adds --------------------------------------------------------------------------


def test_step_functions_jsonata_functions():
    definition = jsonata({"A": {"Type": "Pass", "End": True, "Output": {
        "chunks": "{% $partition([1, 2, 3, 4, 5], 2) %}",
        "range": "{% $range(0, 10, 5) %}",
        "hash": "{% $hash('abc', 'SHA-256') %}",
        "parsed": "{% $parse($states.input.text).a %}",
        "uuid": "{% $uuid() %}",
        "random": "{% $random(7) %}",
        "same_seed": "{% $random(7) = $random(7) %}"}}})
    result = output(run(definition, {"text": "{\"a\": [1, null]}"}))
    assert result["chunks"] == [[1, 2], [3, 4], [5]]
    assert result["range"] == [0, 5, 10]
    assert result["hash"] == hashlib.sha256(b"abc").hexdigest()
    assert result["parsed"] == [1, None]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", result["uuid"])
    assert 0 <= result["random"] < 1 and result["same_seed"] is True


def test_eval_is_not_available():
    definition = jsonata({"A": {"Type": "Pass", "End": True, "Output": "{% $eval('1 + 1') %}"}})
    execution = run(definition, {})
    assert execution.error == "States.QueryEvaluationError"
    assert "$eval is not supported" in execution.cause


def test_map_iterations_evaluate_the_same_expression_concurrently():
    definition = jsonata({"M": {"Type": "Map", "End": True, "MaxConcurrency": 8, "Items": "{% $range(1, 40, 1) %}",
                                "ItemProcessor": {"StartAt": "T", "States": {"T": {
                                    "Type": "Task", "Resource": fn_arn("double"), "End": True,
                                    "Output": "{% $states.result + $states.input %}"}}}}})
    execution = run(definition, {}, functions={"double": lambda event: event * 2})
    assert output(execution) == [3 * i for i in range(1, 41)]


# -- definitions ------------------------------------------------------------------------------------------------


def invalid(definition: dict) -> str:
    with pytest.raises(errors.InvalidDefinition) as caught:
        make_engine().compile(definition)
    return str(caught.value)


def test_jsonpath_fields_are_rejected_in_a_jsonata_state():
    message = invalid(jsonata({"A": {"Type": "Pass", "Parameters": {"a": 1}, "ResultPath": "$.x", "End": True}}))
    assert message == ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Parameters' is not "
                       "supported when the QueryLanguage is JSONata at /States/A/Parameters, SCHEMA_VALIDATION_FAILED: "
                       "The field 'ResultPath' is not supported when the QueryLanguage is JSONata at "
                       "/States/A/ResultPath'")


@pytest.mark.parametrize("field,value", [("InputPath", "$.a"), ("OutputPath", "$.a"), ("ResultSelector", {"a": 1}),
                                         ("ItemsPath", "$.a")])
def test_each_jsonpath_field_is_rejected_in_jsonata(field, value):
    state = {"Type": "Map", "End": True, field: value,
             "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    assert f"The field '{field}' is not supported when the QueryLanguage is JSONata at /States/M/{field}" in \
        invalid(jsonata({"M": state}))


def test_jsonata_fields_are_rejected_in_a_jsonpath_state():
    message = invalid({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {"a": 1}, "End": True}}})
    assert message == ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Output' is not "
                       "supported when the QueryLanguage is JSONPath at /States/A/Output'")


def test_catch_result_path_and_choice_variable_are_rejected_in_jsonata():
    message = invalid(jsonata({
        "T": {"Type": "Task", "Resource": fn_arn("f"), "Next": "C",
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "C"}]},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Variable": "$.a", "Next": "D"}],
              "Default": "D"},
        "D": {"Type": "Succeed"}}))
    assert "The field 'ResultPath' is not supported when the QueryLanguage is JSONata at /States/T/Catch[0]/ResultPath" \
        in message
    assert "The field 'Variable' is not supported when the QueryLanguage is JSONata at /States/C/Choices[0]/Variable" \
        in message


def test_a_jsonpath_state_cannot_sit_in_a_jsonata_scope():
    assert invalid(jsonata({"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}})) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: A JSONPath state cannot be nested in a JSONata "
        "scope at /States/A/QueryLanguage'")
    branch_state = {"StartAt": "X", "States": {"X": {"Type": "Pass", "InputPath": "$.a", "End": True}}}
    message = invalid({"StartAt": "P", "States": {"P": {"Type": "Parallel", "QueryLanguage": J, "End": True,
                                                        "Branches": [branch_state]}}})
    assert "The field 'InputPath' is not supported when the QueryLanguage is JSONata at " \
           "/States/P/Branches[0]/States/X/InputPath" in message


def test_unknown_query_language_is_rejected():
    assert invalid({"QueryLanguage": "XPath", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'QueryLanguage' should have one of "
        "these values: [JSONPath, JSONata] at /QueryLanguage'")


def test_jsonata_syntax_errors_are_rejected_at_creation():
    assert invalid(jsonata({"A": {"Type": "Pass", "Output": {"x": "{% $states.input. %}"}, "End": True}})) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The JSONata expression '$states.input.' is not "
        "valid: Unexpected end of expression at /States/A/Output'")


def test_number_fields_take_a_number_or_an_expression():
    assert invalid(jsonata({"W": {"Type": "Wait", "Seconds": "5", "End": True}})) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Seconds' must be a number or a "
        "JSONata expression at /States/W/Seconds'")


def test_a_jsonata_machine_with_every_expression_field_is_accepted():
    definition = jsonata({
        "T": {"Type": "Task", "Resource": fn_arn("f"), "Next": "M", "TimeoutSeconds": "{% 5 %}",
              "HeartbeatSeconds": "{% 2 %}", "Arguments": "{% $states.input %}", "Assign": {"a": "{% 1 %}"},
              "Output": "{% $states.result %}",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "Output": "{% $states.errorOutput %}",
                         "Assign": {"e": "{% $states.errorOutput %}"}}]},
        "M": {"Type": "Map", "Next": "W", "Items": "{% [1] %}", "ItemSelector": {"v": "{% 1 %}"},
              "MaxConcurrency": "{% 2 %}", "ToleratedFailurePercentage": "{% 10 %}",
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}},
        "W": {"Type": "Wait", "Timestamp": "{% '2025-01-01T00:00:00Z' %}", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "S", "Assign": {"c": 1},
                                             "Output": "{% 1 %}"}], "Default": "F"},
        "S": {"Type": "Succeed", "Output": "{% $states.input %}"},
        "F": {"Type": "Fail", "Error": "{% 'E' %}", "Cause": "{% 'C' %}"}})
    program = make_engine().compile(definition)
    assert program.query_language == J
    assert sorted(program.states) == ["C", "F", "M", "S", "T", "W"]
    execution = run_on(make_engine({"f": lambda event: event}), definition, {"k": 1})
    assert output(execution) == 1


def test_dollar_suffixed_keys_are_plain_keys_in_jsonata():
    definition = jsonata({"M": {"Type": "Map", "End": True, "Items": [1],
                                "ItemSelector": {"a.$": "$.x", "v": "{% $states.context.Map.Item.Value %}"},
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}})
    assert output(run(definition, {"x": 9})) == [{"a.$": "$.x", "v": 1}]


def test_wait_timestamp_that_is_no_timestamp_fails_in_aws_words():
    # AWS-recorded: a JSONata Wait whose Timestamp evaluates to "2016-12-05 21:29:29Z" records EvaluationFailed
    # (id 3, previousEventId 2: the WaitStateEntered event) at location Timestamp with this cause
    definition = jsonata({"WaitState": {"Type": "Wait", "Timestamp": "{% $states.input.TimestampValue %}",
                                        "End": True}})
    execution = run(definition, {"TimestampValue": "2016-12-05 21:29:29Z"})
    cause = ("An error occurred while executing the state 'WaitState' (entered at the event id #2). The Timestamp "
             "field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05 21:29:29Z")
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "States.QueryEvaluationError", cause)
    failed = events(execution, "EvaluationFailed")[0]
    assert (failed["id"], failed["previousEventId"]) == (3, 2)
    assert details(failed) == {"error": "States.QueryEvaluationError", "cause": cause, "location": "Timestamp",
                               "state": "WaitState"}
