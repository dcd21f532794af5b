import pytest

from local_runtime.stepfunctions.choice import compile_rule, string_matches
from local_runtime.stepfunctions.failures import StatesError

from .helpers import run

DATA = {"s": "beta", "n": 10, "f": 2.5, "b": True, "z": None, "t": "2024-05-01T10:00:00Z",
        "t2": "2024-05-01T12:00:00+02:00", "other": "alpha", "m": 10, "items": [{"status": "PAID"}]}


def check(rule):
    return compile_rule(rule)(DATA, lambda: {"Execution": {"Name": "e"}})


@pytest.mark.parametrize("rule,expected", [
    ({"Variable": "$.s", "StringEquals": "beta"}, True),
    ({"Variable": "$.s", "StringEquals": "Beta"}, False),
    ({"Variable": "$.s", "StringLessThan": "gamma"}, True),
    ({"Variable": "$.s", "StringGreaterThan": "alpha"}, True),
    ({"Variable": "$.s", "StringLessThanEquals": "beta"}, True),
    ({"Variable": "$.s", "StringGreaterThanEquals": "beta"}, True),
    ({"Variable": "$.s", "StringEqualsPath": "$.other"}, False),
    ({"Variable": "$.s", "StringGreaterThanPath": "$.other"}, True),
    ({"Variable": "$.s", "StringLessThanPath": "$.other"}, False),
    ({"Variable": "$.s", "StringLessThanEqualsPath": "$.s"}, True),
    ({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.s"}, True),
    ({"Variable": "$.s", "StringMatches": "b*a"}, True),
    ({"Variable": "$.s", "StringMatches": "*x*"}, False),
    ({"Variable": "$.n", "StringEquals": "10"}, False),           # type mismatch is false
    ({"Variable": "$.n", "NumericEquals": 10}, True),
    ({"Variable": "$.f", "NumericLessThan": 3}, True),
    ({"Variable": "$.n", "NumericGreaterThan": 9.5}, True),
    ({"Variable": "$.n", "NumericLessThanEquals": 10}, True),
    ({"Variable": "$.n", "NumericGreaterThanEquals": 11}, False),
    ({"Variable": "$.n", "NumericEqualsPath": "$.m"}, True),
    ({"Variable": "$.f", "NumericLessThanPath": "$.n"}, True),
    ({"Variable": "$.f", "NumericGreaterThanPath": "$.n"}, False),
    ({"Variable": "$.n", "NumericLessThanEqualsPath": "$.m"}, True),
    ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m"}, True),
    ({"Variable": "$.b", "NumericEquals": 1}, False),             # a boolean is not a number
    ({"Variable": "$.b", "BooleanEquals": True}, True),
    ({"Variable": "$.b", "BooleanEqualsPath": "$.b"}, True),
    ({"Variable": "$.t", "TimestampEquals": "2024-05-01T10:00:00.000Z"}, True),
    ({"Variable": "$.t", "TimestampEqualsPath": "$.t2"}, True),   # same instant, other offset
    ({"Variable": "$.t", "TimestampLessThan": "2024-05-01T10:00:01Z"}, True),
    ({"Variable": "$.t", "TimestampGreaterThan": "2024-05-01T09:00:00Z"}, True),
    ({"Variable": "$.t", "TimestampLessThanEquals": "2024-05-01T10:00:00Z"}, True),
    ({"Variable": "$.t", "TimestampGreaterThanEquals": "2024-05-02T00:00:00Z"}, False),
    ({"Variable": "$.t", "TimestampLessThanPath": "$.t2"}, False),
    ({"Variable": "$.t", "TimestampGreaterThanPath": "$.t2"}, False),
    ({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.t2"}, True),
    ({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.t2"}, True),
    ({"Variable": "$.s", "TimestampEquals": "2024-05-01T10:00:00Z"}, False),
    ({"Variable": "$.z", "IsNull": True}, True),
    ({"Variable": "$.s", "IsNull": True}, False),
    ({"Variable": "$.missing", "IsPresent": False}, True),
    ({"Variable": "$.s", "IsPresent": True}, True),
    ({"Variable": "$.f", "IsNumeric": True}, True),
    ({"Variable": "$.b", "IsNumeric": True}, False),
    ({"Variable": "$.s", "IsString": True}, True),
    ({"Variable": "$.b", "IsBoolean": True}, True),
    ({"Variable": "$.t", "IsTimestamp": True}, True),
    ({"Variable": "$.s", "IsTimestamp": True}, False),
    ({"Variable": "$.items[0].status", "StringEquals": "PAID"}, True),   # scalar from an indexed path
    ({"And": [{"Variable": "$.n", "NumericEquals": 10}, {"Variable": "$.b", "BooleanEquals": True}]}, True),
    ({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.b", "BooleanEquals": False}]}, False),
    ({"Not": {"Variable": "$.s", "StringEquals": "x"}}, True),
    ({"Variable": "$$.Execution.Name", "StringEquals": "e"}, True),
])
def test_operators(rule, expected):
    assert check(rule) is expected


@pytest.mark.parametrize("value,pattern,expected", [
    ("log.txt", "*.txt", True), ("a*b", "a\\*b", True), ("axb", "a\\*b", False), ("a\\b", "a\\\\b", True),
    ("abc", "abc", True), ("", "*", True), ("x.y", "x?y", False),
])
def test_string_matches(value, pattern, expected):
    assert string_matches(value, pattern) is expected


def test_missing_variable_is_runtime_error():
    with pytest.raises(StatesError) as info:
        check({"Variable": "$.missing", "StringEquals": "x"})
    assert info.value.error == "States.Runtime"


def machine(default=True):
    states = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 5, "Next": "Big"}]},
              "Big": {"Type": "Pass", "Result": "big", "End": True}}
    if default:
        states["C"]["Default"] = "Small"
        states["Small"] = {"Type": "Pass", "Result": "small", "End": True}
    return {"StartAt": "C", "States": states}


def test_choice_state_routes_and_defaults():
    assert run(machine(), {"v": 9}).output == '"big"'
    assert run(machine(), {"v": 1}).output == '"small"'


def test_no_match_without_default():
    execution = run(machine(default=False), {"v": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.NoChoiceMatched")
