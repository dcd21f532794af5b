import pytest

from local_runtime.stepfunctions.failures import StatesError
from local_runtime.stepfunctions.paths import PathSyntaxError, compile_path, compile_reference_path, select
from local_runtime.stepfunctions.templates import Template

from .helpers import output, run


def ctx():
    return {"Execution": {"Id": "arn:x"}}


@pytest.mark.parametrize("path,expected", [
    ("$", {"a": {"b": [1, {"c": "S"}]}, "x y": 1}),
    ("$.a.b[0]", 1),
    ("$.a.b[1].c", "S"),                # a definite path with an index gives the scalar (AWS), not ["S"]
    ("$['a']['b'][1]['c']", "S"),
    ("$['x y']", 1),
    ("$.a.b[*]", [1, {"c": "S"}]),
    ("$..c", ["S"]),
])
def test_find(path, expected):
    data = {"a": {"b": [1, {"c": "S"}]}, "x y": 1}
    assert compile_path(path).find(data) == expected


def test_filter_expression_gives_list():
    data = {"items": [{"p": 1}, {"p": 5}, {"p": 9}]}
    assert compile_path("$.items[?(@.p > 3)].p").find(data) == [5, 9]


def test_invalid_path_is_rejected():
    with pytest.raises(PathSyntaxError):
        compile_path("foo")


def test_missing_input_path_message():
    with pytest.raises(StatesError) as info:
        select(compile_path("$.x"), {"a": 1}, "InputPath", ctx)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == "Invalid path '$.x' : No results for path: $['x']"


def test_null_path_selects_empty_object():
    assert select(None, {"a": 1}, "InputPath", ctx) == {}


def test_result_path_creates_nested_and_copies_spine():
    data = {"a": {"keep": 1}, "other": [1]}
    out = compile_reference_path("$.a.b.c").apply(data, 5)
    assert out == {"a": {"keep": 1, "b": {"c": 5}}, "other": [1]}
    assert data == {"a": {"keep": 1}, "other": [1]}  # input untouched
    assert out["other"] is data["other"]              # no deep copy


def test_result_path_into_a_string_fails():
    with pytest.raises(StatesError) as info:
        compile_reference_path("$.a.b").apply({"a": "text"}, 1)
    assert info.value.error == "States.ResultPathMatchFailure"


def test_template_paths_context_intrinsics_and_constants():
    template = Template({"static": {"k": [1, 2]}, "v.$": "$.a", "id.$": "$$.Execution.Id",
                         "f.$": "States.Format('{}-{}', $.a, 2)", "nested": {"n.$": "$.b[0]"}})
    assert template.resolve({"a": "x", "b": [7]}, ctx) == {
        "static": {"k": [1, 2]}, "v": "x", "id": "arn:x", "f": "x-2", "nested": {"n": 7}}


def test_parameters_missing_path_is_runtime_error():
    execution = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$.nope"}, "End": True}}},
                    {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == ("An error occurred while executing the state 'P' (entered at the event id #2). "
                               "The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input "
                               "'{\"a\":1}'")


def test_full_io_pipeline_in_a_task():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
        "InputPath": "$.order", "Parameters": {"id.$": "$.id", "n": 1},
        "ResultSelector": {"got.$": "$.id"}, "ResultPath": "$.result", "OutputPath": "$.result", "End": True}}}
    execution = run(definition, {"order": {"id": "o-1"}}, functions={"echo": lambda e: e})
    assert output(execution) == {"got": "o-1"}


def test_result_path_null_keeps_input():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": None, "End": True}}}
    assert output(run(definition, {"a": 1})) == {"a": 1}


def test_scalar_index_path_in_parameters():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"p.$": "$.checks[0].p"},
                                                   "End": True}}}
    assert output(run(definition, {"checks": [{"p": "S"}]})) == {"p": "S"}
