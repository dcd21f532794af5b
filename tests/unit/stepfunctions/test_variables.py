"""Workflow variables: Assign in JSONPath and JSONata states, $name references, scopes, limits, history."""
import pytest

from local_runtime import errors
from local_runtime.stepfunctions.failures import StatesError
from local_runtime.stepfunctions.variables import MAX_VARIABLE_BYTES, Scope, variable_name_problem

from .helpers import fn_arn, make_engine, output, run

J = "JSONata"


def exited(execution, name: str) -> dict:
    return next(d for e in execution.history.events() for k, d in e.items()
                if k == "stateExitedEventDetails" and d["name"] == name)


# -- JSONPath ---------------------------------------------------------------------------------------------------


def test_jsonpath_assign_and_references_in_later_states():
    definition = {"StartAt": "Remember", "States": {
        "Remember": {"Type": "Pass", "Next": "Forget",
                     "Assign": {"customer.$": "$.customer", "limit": 100, "tags": ["a", "b"],
                                "nested": {"id.$": "$.customer.id"}}},
        "Forget": {"Type": "Pass", "Result": {"unrelated": True}, "Next": "Use"},
        "Use": {"Type": "Pass", "End": True, "Parameters": {
            "id.$": "$customer.id", "name.$": "$customer['name']", "limit.$": "$limit", "second.$": "$tags[1]",
            "nested.$": "$nested", "greeting.$": "States.Format('Hi {} ({})', $customer.name, $limit)",
            "input.$": "$", "literal": "$limit"}}}}
    execution = run(definition, {"customer": {"id": "c-1", "name": "Ana"}})
    assert output(execution) == {"id": "c-1", "name": "Ana", "limit": 100, "second": "b", "nested": {"id": "c-1"},
                                 "greeting": "Hi Ana (100)", "input": {"unrelated": True}, "literal": "$limit"}
    remember = exited(execution, "Remember")
    assert remember["assignedVariables"] == {"customer": '{"id":"c-1","name":"Ana"}', "limit": "100",
                                             "tags": '["a","b"]', "nested": '{"id":"c-1"}'}
    assert remember["assignedVariablesDetails"] == {"truncated": False}
    assert "assignedVariables" not in exited(execution, "Forget")


def test_variables_in_input_path_items_path_and_choice_rules():
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"items.$": "$.items", "threshold": 2, "cfg": {"on": True}}, "Next": "Pick"},
        "Pick": {"Type": "Choice", "Default": "Off", "Choices": [
            {"And": [{"Variable": "$cfg.on", "BooleanEquals": True},
                     {"Variable": "$threshold", "NumericLessThanPath": "$.min"}], "Next": "Each"}]},
        "Each": {"Type": "Map", "ItemsPath": "$items", "Next": "Cfg",
                 "ItemSelector": {"value.$": "$$.Map.Item.Value", "threshold.$": "$threshold"},
                 "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}},
        "Cfg": {"Type": "Pass", "InputPath": "$cfg", "End": True},
        "Off": {"Type": "Fail", "Error": "Off"}}}
    assert output(run(definition, {"items": [1, 2], "min": 5})) == {"on": True}
    execution = run(definition, {"items": [1, 2], "min": 1})
    assert (execution.status, execution.error) == ("FAILED", "Off")
    definition["States"]["Cfg"] = {"Type": "Pass", "End": True}
    assert output(run(definition, {"items": [1, 2], "min": 5})) == [{"value": 1, "threshold": 2},
                                                                    {"value": 2, "threshold": 2}]


def test_choice_rule_assign_and_default_assign():
    definition = {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Default": "Show", "Assign": {"path": "default"},
                  "Choices": [{"Variable": "$.vip", "BooleanEquals": True, "Next": "Show",
                               "Assign": {"path": "vip", "who.$": "$.name"}}]},
        "Show": {"Type": "Pass", "Parameters": {"path.$": "$path"}, "End": True}}}
    vip = run(definition, {"vip": True, "name": "Ana"})
    assert output(vip) == {"path": "vip"}
    assert exited(vip, "Route")["assignedVariables"] == {"path": '"vip"', "who": '"Ana"'}
    assert output(run(definition, {"vip": False})) == {"path": "default"}


def test_task_assign_sees_the_raw_result_before_result_selector():
    definition = {"StartAt": "Quote", "States": {
        "Quote": {"Type": "Task", "Resource": fn_arn("quote"), "Next": "Show",
                  "Assign": {"raw.$": "$"}, "ResultSelector": {"cents.$": "$.price.cents"}, "ResultPath": "$.quote"},
        "Show": {"Type": "Pass", "Parameters": {"raw.$": "$raw", "quote.$": "$.quote"}, "End": True}}}
    execution = run(definition, {"sku": "a"}, functions={"quote": lambda e: {"price": {"cents": 250}, "x": 1}})
    assert output(execution) == {"raw": {"price": {"cents": 250}, "x": 1}, "quote": {"cents": 250}}


def test_catch_assign_sees_the_error_output():
    def boom(event):
        raise KeyError("sku")

    definition = {"StartAt": "Reserve", "States": {
        "Reserve": {"Type": "Task", "Resource": fn_arn("boom"), "End": True, "Assign": {"never": 1},
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Report", "ResultPath": None,
                               "Assign": {"failure.$": "$.Error"}}]},
        "Report": {"Type": "Pass", "Parameters": {"failure.$": "$failure", "input.$": "$"}, "End": True}}}
    execution = run(definition, {"sku": "a"}, functions={"boom": boom})
    assert output(execution) == {"failure": "KeyError", "input": {"sku": "a"}}
    assert exited(execution, "Reserve")["assignedVariables"] == {"failure": '"KeyError"'}


def test_wait_assign():
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Assign": {"waited.$": "$.n"}, "Next": "S"},
        "S": {"Type": "Pass", "Parameters": {"waited.$": "$waited"}, "End": True}}}
    assert output(run(definition, {"n": 1})) == {"waited": 1}


def test_an_unknown_variable_fails_with_states_runtime():
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$nope"}, "End": True}}}
    execution = run(definition, {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause.endswith("The JSONPath '$nope' specified for the field 'x.$' could not be found in the "
                                    "input '{\"a\":1}'")


# -- evaluation order -------------------------------------------------------------------------------------------


def test_one_assign_sees_the_values_from_before_the_state():
    definition = {"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "SwapPath"},
        "SwapPath": {"Type": "Pass", "Assign": {"a.$": "$b", "b.$": "$a"}, "OutputPath": "$a", "Next": "SwapAta"},
        "SwapAta": {"Type": "Pass", "QueryLanguage": J, "Assign": {"a": "{% $b %}", "b": "{% $a %}"},
                    "Output": {"before": ["{% $a %}", "{% $b %}"]}, "Next": "Show"},
        "Show": {"Type": "Pass", "QueryLanguage": J, "End": True,
                 "Output": {"seen": "{% $states.input %}", "after": ["{% $a %}", "{% $b %}"]}}}}
    execution = run(definition, {})
    # SwapPath's OutputPath read $a before the swap; SwapAta's Output sees SwapPath's values (2, 1)
    assert output(execution) == {"seen": {"before": [2, 1]}, "after": [1, 2]}
    assert exited(execution, "SwapPath")["output"] == "1"


# -- JSONata ----------------------------------------------------------------------------------------------------


def test_jsonata_assign_with_states_result_and_later_reference():
    definition = {"QueryLanguage": J, "StartAt": "Price", "States": {
        "Price": {"Type": "Task", "Resource": fn_arn("price"), "Next": "Total",
                  "Assign": {"unit": "{% $states.result.unit %}", "qty": "{% $states.input.qty %}"},
                  "Output": {"ok": True}},
        "Total": {"Type": "Pass", "End": True, "Output": {"total": "{% $unit * $qty %}", "in": "{% $states.input %}"}}}}
    execution = run(definition, {"qty": 3}, functions={"price": lambda e: {"unit": 4}})
    assert output(execution) == {"total": 12, "in": {"ok": True}}
    assert exited(execution, "Price")["assignedVariables"] == {"unit": "4", "qty": "3"}


def test_jsonata_unknown_variable_is_undefined():
    definition = {"QueryLanguage": J, "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Output": "{% $nope %}", "End": True}}}
    execution = run(definition, {})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause.endswith("The JSONata expression '$nope' specified for the field 'Output' returned "
                                    "nothing (undefined).")


def test_variables_cross_query_languages():
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "QueryLanguage": J, "Assign": {"order": "{% $states.input %}"}, "Next": "Read"},
        "Read": {"Type": "Pass", "Parameters": {"id.$": "$order.id"}, "End": True}}}
    assert output(run(definition, {"id": "o-1"})) == {"id": "o-1"}


# -- scopes -----------------------------------------------------------------------------------------------------


def test_parallel_branches_read_outer_variables_and_keep_their_own():
    definition = {"QueryLanguage": J, "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"base": 10}, "Next": "Fork"},
        "Fork": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "A1", "States": {
                "A1": {"Type": "Pass", "Assign": {"mine": "{% $base + 1 %}"}, "Next": "A2"},
                "A2": {"Type": "Pass", "Output": "{% $mine %}", "End": True}}},
            {"StartAt": "B1", "States": {
                "B1": {"Type": "Pass", "Assign": {"mine": "{% $base + 2 %}"}, "Next": "B2"},
                "B2": {"Type": "Pass", "Output": "{% $mine %}", "End": True}}}],
            "Assign": {"results": "{% $states.result %}"}},
        "After": {"Type": "Pass", "Output": {"results": "{% $results %}", "base": "{% $base %}",
                                             "inner_visible": "{% $exists($mine) %}"}, "End": True}}}
    assert output(run(definition, {})) == {"results": [11, 12], "base": 10, "inner_visible": False}


def test_map_iterations_have_separate_scopes():
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "Keep", "States": {
            "Keep": {"Type": "Pass", "Assign": {"seen.$": "$"}, "Next": "Show"},
            "Show": {"Type": "Pass", "QueryLanguage": J, "End": True,
                     "Output": "{% $seen %}"}}}}}}
    assert output(run(definition, ["a", "b", "c"])) == ["a", "b", "c"]


def test_an_iteration_cannot_assign_an_outer_variable():
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"count": 0}, "Next": "Each"},
        "Each": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Bump", "States": {
            "Bump": {"Type": "Pass", "Assign": {"count": 1}, "End": True}}}}}}
    execution = run(definition, [1])
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "The variable 'count' belongs to an outer scope" in execution.cause


def test_an_iteration_sees_the_outer_values_from_when_the_map_started():
    definition = {"QueryLanguage": J, "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Each"},
        "Each": {"Type": "Map", "Items": [1, 2], "Assign": {"n": 5}, "End": True,
                 "Output": {"inner": "{% $states.result %}", "outer_now": "{% $n %}"},
                 "ItemProcessor": {"StartAt": "Read", "States": {
                     "Read": {"Type": "Pass", "Output": "{% $n %}", "End": True}}}}}}
    execution = run(definition, {})
    assert output(execution) == {"inner": [1, 1], "outer_now": 1}
    assert exited(execution, "Each")["assignedVariables"] == {"n": "5"}


# -- limits and names -------------------------------------------------------------------------------------------


def test_a_variable_above_256_kib_fails_the_execution():
    definition = {"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Assign": {"blob.$": "$.blob"}, "OutputPath": None,
                                                     "End": True}}}
    execution = run(definition, {"blob": "x" * MAX_VARIABLE_BYTES})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")
    assert execution.cause == (f"The value assigned to the variable 'blob' has {MAX_VARIABLE_BYTES + 2} bytes, more "
                               f"than the {MAX_VARIABLE_BYTES} bytes limit")


def test_one_assign_above_256_kib_in_total_fails():
    half = "y" * (MAX_VARIABLE_BYTES // 2)
    with pytest.raises(StatesError) as caught:
        Scope().commit({"a": half, "b": half})
    assert caught.value.error == "States.DataLimitExceeded"


def test_all_variables_above_10_mib_fail():
    scope = Scope()
    chunk = "z" * (MAX_VARIABLE_BYTES - 10)
    for i in range(40):
        scope.commit({f"v{i}": chunk})
    with pytest.raises(StatesError) as caught:
        scope.commit({"last": chunk})
    assert caught.value.error == "States.DataLimitExceeded"
    assert "last" not in scope.values and len(scope.values) == 40


@pytest.mark.parametrize("name,problem", [
    ("total", None), ("_tmp", None), ("prix_été", None),
    ("states", "The variable name 'states' is reserved"),
    ("2x", "The variable name '2x' is not valid: it must start with a letter or '_' and go on with letters, digits "
           "or '_'"),
    ("a-b", "The variable name 'a-b' is not valid: it must start with a letter or '_' and go on with letters, "
            "digits or '_'"),
    ("v" * 81, f"The variable name '{'v' * 81}' is longer than 80 characters"),
])
def test_variable_names(name, problem):
    assert variable_name_problem(name) == problem


def test_bad_variable_names_are_rejected_at_creation():
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"ok": 1, "bad name": 2}, "End": True}}}
    with pytest.raises(errors.InvalidDefinition) as caught:
        make_engine().compile(definition)
    assert str(caught.value) == ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The variable name "
                                 "'bad name' is not valid: it must start with a letter or '_' and go on with letters, "
                                 "digits or '_' at /States/A/Assign/bad name'")


def test_a_variable_is_not_a_result_path():
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$x", "End": True}}}
    with pytest.raises(errors.InvalidDefinition) as caught:
        make_engine().compile(definition)
    assert "The value for the field 'ResultPath' must be a valid Reference Path at /States/A/ResultPath" \
        in str(caught.value)


def test_fail_error_and_cause_paths_read_variables_inside_a_map():
    # an ErrorPath/CausePath naming a variable crashed the state with a Python AttributeError (issue 14)
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": {"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"code.$": "$.code", "why": "bad item"}, "Next": "F"},
            "F": {"Type": "Fail", "ErrorPath": "$code", "CausePath": "$why"}}}}}}
    execution = run(definition, {"items": [{"code": "ItemError"}]})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "ItemError", "bad item")
