import base64
import hashlib
import re

import pytest

from local_runtime.stepfunctions.failures import StatesError
from local_runtime.stepfunctions.intrinsics import IntrinsicSyntaxError, parse_intrinsic

DATA = {"name": "Ana", "n": 3, "arr": [1, 2, 2, 3], "obj": {"a": 1}, "s": '{"k":[1,2]}', "other": {"b": 2},
        "csv": "a,b;c"}


def ev(text, data=DATA):
    return parse_intrinsic(text).evaluate(data, lambda: {"Execution": {"Name": "e1"}})


@pytest.mark.parametrize("text,expected", [
    ("States.Format('Hello {}, you have {} items', $.name, $.n)", "Hello Ana, you have 3 items"),
    ("States.Format('lit \\{\\} {}', $.name)", "lit {} Ana"),
    ("States.Format('it\\'s {}', true)", "it's true"),
    ("States.Format('{}', $$.Execution.Name)", "e1"),
    ("States.StringToJson($.s)", {"k": [1, 2]}),
    ("States.JsonToString($.obj)", '{"a":1}'),
    ("States.Array('a', 1, $.n, null)", ["a", 1, 3, None]),
    ("States.ArrayPartition($.arr, 3)", [[1, 2, 2], [3]]),
    ("States.ArrayContains($.arr, 3)", True),
    ("States.ArrayContains($.arr, 9)", False),
    ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
    ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
    ("States.ArrayGetItem($.arr, 3)", 3),
    ("States.ArrayLength($.arr)", 4),
    ("States.ArrayUnique($.arr)", [1, 2, 3]),
    ("States.Base64Encode('Data to encode')", base64.b64encode(b"Data to encode").decode()),
    ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
    ("States.Hash('input data', 'SHA-1')", hashlib.sha1(b"input data").hexdigest()),
    ("States.Hash($.name, 'MD5')", hashlib.md5(b"Ana").hexdigest()),
    ("States.JsonMerge($.obj, $.other, false)", {"a": 1, "b": 2}),
    ("States.MathAdd($.n, -1)", 2),
    ("States.StringSplit($.csv, ',;')", ["a", "b", "c"]),
    ("States.StringSplit('1,2,3', ',')", ["1", "2", "3"]),
    ("States.ArrayLength(States.Array(1, States.Array(2, 3)))", 2),
    ("States.Format('{}', States.ArrayGetItem(States.StringSplit('x-y', '-'), 1))", "y"),
])
def test_intrinsic_values(text, expected):
    assert ev(text) == expected


# AWS-recorded results of States.MathAdd: each argument is rounded to an integer first, as Java's Math.round does
@pytest.mark.parametrize("a, b, total", [
    (-9, 3, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.49, -1.5, -2), (-1.5, -1.51, -3),
    (0.5, -0.5, 1), (-1, -0.5, -1),
])
def test_math_add_rounds_each_argument_first(a, b, total):
    assert ev("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == total


# AWS-recorded results of States.Format with arguments that are not strings
@pytest.mark.parametrize("value, text", [
    (None, "null"), (1, "1"), (1.1, "1.1"), ("", ""), ('{"Arg1": 1, "Arg2": []}', '{"Arg1": 1, "Arg2": []}'),
    ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
])
def test_format_renders_every_json_value(value, text):
    assert ev("States.Format('fst={} and snd={}.', $.v, $.v)", {"v": value}) == f"fst={text} and snd={text}."


def test_format_renders_the_context_object_as_aws_does():
    context = {"StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:m", "Name": "m"}}
    call = parse_intrinsic("States.Format('snd={}.', $$.StateMachine)")
    assert call.evaluate({}, lambda: context) == "snd={Id=arn:aws:states:us-east-1:111111111111:stateMachine:m, Name=m}."


def test_string_to_json_of_an_empty_string_is_null():
    assert ev("States.StringToJson('')") is None


def test_a_wrong_argument_count_is_named_without_python_text():
    with pytest.raises(StatesError) as info:
        ev("States.ArrayLength($.arr, 1)")
    assert (info.value.error, info.value.cause) == (
        "States.IntrinsicFailure", "Invalid number of arguments in States.ArrayLength: expected 1, got 2")


def test_math_random_within_bounds_and_seeded():
    values = {ev("States.MathRandom(1, 5)") for _ in range(200)}
    assert values <= {1, 2, 3, 4} and len(values) > 1
    assert ev("States.MathRandom(1, 1000, 7)") == ev("States.MathRandom(1, 1000, 7)")


def test_uuid_is_v4():
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", ev("States.UUID()"))


@pytest.mark.parametrize("text", [
    "States.Format('{} {}', $.name)",
    "States.StringToJson('not json')",
    "States.ArrayGetItem($.arr, 10)",
    "States.ArrayPartition($.arr, 0)",
    "States.ArrayRange(1, 2, 0)",
    "States.ArrayRange(0, 2000, 1)",
    "States.Hash('x', 'SHA-3')",
    "States.JsonMerge($.obj, $.other, true)",
    "States.MathAdd('a', 1)",
    "States.Base64Decode('%%%')",
    "States.ArrayLength($.missing)",
])
def test_intrinsic_failures(text):
    with pytest.raises(StatesError) as info:
        ev(text)
    assert info.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize("text", ["States.Nope(1)", "States.Format('x'", "States.Array(1 2)", "Format('x')"])
def test_syntax_errors(text):
    with pytest.raises(IntrinsicSyntaxError):
        parse_intrinsic(text)
