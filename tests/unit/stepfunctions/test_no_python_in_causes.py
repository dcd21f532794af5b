"""No execution's cause carries Python exception text: a property checked over generated definitions and inputs.

Every definition of the differential corpus runs with its own input and with inputs whose leaves are replaced by
values of every JSON type; every intrinsic function runs with arguments of every JSON type; JSONata expressions and
the path fields (ItemsPath, MaxConcurrencyPath, SecondsPath, TimestampPath, ErrorPath, CausePath, Choice rules) run
on values of every type. Each execution must end (no RUNNING), and its cause must read as AWS writes causes: no
traceback, no Python exception class name, no Python or json-module message.

The generation is seeded, so a failure names a case that reproduces.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, VirtualClock

from .helpers import FakeLambda

CORPUS = Path(__file__).resolve().parents[2] / "local" / "differential" / "corpus"
PYTHON_TEXT = re.compile(
    r"Traceback|\b(Attribute|Type|Key|Index|Value|ZeroDivision|Recursion|JSONDecode|Unicode\w*|Lookup|Name|"
    r"Runtime|Overflow)Error\b|NoneType|object has no attribute|not subscriptable|unsupported operand|"
    r"positional argument|Expecting (value|property name|',' delimiter)|line \d+ column \d+|\(char \d+\)|"
    r"<class '|object at 0x")
VALUES = [None, True, False, 0, -1, 3, 1.5, -0.5, "", " ", "x", "12", "2024-01-01T00:00:00Z", "{\"k\": 1}", [], [1, "a"],
          {}, {"a": None}, {"a": [1, {"b": 2}]}]
INTRINSICS = {
    "States.Format": 3, "States.StringToJson": 1, "States.JsonToString": 1, "States.Array": 2,
    "States.ArrayPartition": 2, "States.ArrayContains": 2, "States.ArrayRange": 3, "States.ArrayGetItem": 2,
    "States.ArrayLength": 1, "States.ArrayUnique": 1, "States.Base64Encode": 1, "States.Base64Decode": 1,
    "States.Hash": 2, "States.JsonMerge": 3, "States.MathRandom": 3, "States.MathAdd": 2, "States.StringSplit": 2,
    "States.UUID": 0,
}
JSONATA = ["$states.input.a + 1", "$number($states.input.a)", "$string($states.input.a)", "1 / $states.input.a",
           "$partition($states.input.a, $states.input.b)", "$range($states.input.a, $states.input.b, 1)",
           "$hash($states.input.a, $states.input.b)", "$parse($states.input.a)", "$states.input.a.b.c",
           "$random($states.input.a)", "$eval('1')", "$sum($states.input.a)", "$states.input.a[0]",
           "$substring($states.input.a, $states.input.b)", "$keys($states.input.a)", "$nope($states.input.a)",
           "$states.input.a ? 1 : 2", "$states.input.a & $states.input.b", "$states.input.a = $states.input.b"]


def _leaves_replaced(value, rng: random.Random):
    if isinstance(value, dict):
        return {key: _leaves_replaced(item, rng) for key, item in value.items()}
    if isinstance(value, list):
        return [_leaves_replaced(item, rng) for item in value]
    return rng.choice(VALUES)


def _corpus_cases():
    rng = random.Random(14)
    for path in sorted(CORPUS.glob("*.json")):
        for case in json.loads(path.read_text()):
            yield f"{path.stem}/{case['name']}", case["definition"], case.get("input", {})
            for n in range(2):
                yield f"{path.stem}/{case['name']}#{n}", case["definition"], _leaves_replaced(case.get("input", {}),
                                                                                              rng)


def _pass(parameters: dict) -> dict:
    return {"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": parameters, "End": True}}}


def _generated_cases():
    rng = random.Random(41)
    for name, arity in INTRINSICS.items():
        for n in range(12):
            args = ", ".join(f"$.v{i}" for i in range(arity))
            data = {f"v{i}": rng.choice(VALUES) for i in range(arity)}
            if name == "States.Format":
                args = "$.v0, $.v1" if n % 2 else "'{} and {}', $.v1, $.v2"
            yield f"{name}#{n}", _pass({"r.$": f"{name}({args})"}), data
    for index, expression in enumerate(JSONATA):
        for n in range(6):
            definition = {"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
                "Type": "Pass", "Output": {"r": "{% " + expression + " %}"}, "End": True}}}
            yield f"jsonata{index}#{n}", definition, {"a": rng.choice(VALUES), "b": rng.choice(VALUES)}
    for value in VALUES:
        yield f"map-items:{value!r}", {"StartAt": "M", "States": {"M": {
            "Type": "Map", "ItemsPath": "$.a", "MaxConcurrencyPath": "$.c",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}, \
            {"a": value, "c": rng.choice(VALUES)}
        yield f"wait-seconds:{value!r}", {"StartAt": "W", "States": {"W": {
            "Type": "Wait", "SecondsPath": "$.a", "End": True}}}, {"a": value}
        yield f"wait-timestamp:{value!r}", {"StartAt": "W", "States": {"W": {
            "Type": "Wait", "TimestampPath": "$.a", "End": True}}}, {"a": value}
        yield f"fail-paths:{value!r}", {"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"v.$": "$.a"}, "Next": "F"},
            "F": {"Type": "Fail", "ErrorPath": "$v", "CausePath": "$.a"}}}, {"a": value}
        yield f"choice:{value!r}", {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.a", "NumericGreaterThanPath": "$.b", "Next": "D"},
                {"Variable": "$.a", "TimestampEqualsPath": "$.b", "Next": "D"},
                {"Variable": "$.a", "StringMatches": "x*", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}}}, {"a": value, "b": rng.choice(VALUES)}
        yield f"jsonata-map-items:{value!r}", {"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
            "Type": "Map", "Items": "{% $states.input.a %}", "MaxConcurrency": "{% $states.input.c %}",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}, \
            {"a": value, "c": rng.choice(VALUES)}


def _run(definition, data) -> tuple[str, str | None, str | None]:
    engine = Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=FakeLambda({})))
    try:
        program = engine.compile(definition)
    except errors.ServiceError as exc:
        return "REJECTED", type(exc).__name__, exc.message
    try:
        execution = engine.run_sync(program, arn="arn:aws:states:us-east-1:123456789012:execution:m:e", name="e",
                                    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
                                    state_machine_name="m", input_text=json.dumps(data))
        return execution.status, execution.error, execution.cause
    finally:
        engine.shutdown()


CASES = list(_corpus_cases()) + list(_generated_cases())


def test_the_property_is_checked_on_many_cases():
    assert len(CASES) > 1000


@pytest.mark.parametrize("chunk", range(8))
def test_no_cause_carries_python_exception_text(chunk):
    offenders = []
    for name, definition, data in CASES[chunk::8]:
        status, error, cause = _run(definition, data)
        if status == "RUNNING" or PYTHON_TEXT.search(cause or "") or PYTHON_TEXT.search(error or ""):
            offenders.append((name, status, error, cause))
    assert offenders == []


def test_the_check_recognises_python_text():
    assert PYTHON_TEXT.search("AttributeError: 'VariablePath' object has no attribute 'evaluate'")
    assert PYTHON_TEXT.search("the argument is not valid JSON: Expecting value: line 1 column 1 (char 0)")
    assert not PYTHON_TEXT.search("An error occurred while executing the state 'S' (entered at the event id #2). "
                                  "The JSONPath '$.a' specified for the field 'r.$' could not be found in the input "
                                  "'{}'")


def test_an_internal_error_of_the_engine_is_an_aws_shaped_runtime_failure(monkeypatch, caplog):
    from local_runtime.stepfunctions import states

    def broken(self, branch, data):
        raise AttributeError("'VariablePath' object has no attribute 'evaluate'")

    monkeypatch.setattr(states.Pass, "run", broken)
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.a", "End": True,
                                                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Never"}],
                                                   "ItemProcessor": {"StartAt": "P", "States": {
                                                       "P": {"Type": "Pass", "End": True}}}},
                                             "Never": {"Type": "Succeed"}}}
    status, error, cause = _run(definition, {"a": [1]})
    # States.Runtime is terminal (Catch cannot take it), the cause names the state as AWS's causes do
    assert (status, error, cause) == (
        "FAILED", "States.Runtime", "An error occurred while executing the state 'P' (entered at the event id #5). "
                                    "The local engine could not run the state (an internal error; see the runtime "
                                    "log).")
    assert "AttributeError" in caplog.text  # the traceback goes to the log
