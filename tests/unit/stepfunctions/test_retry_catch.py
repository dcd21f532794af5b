import json
import random
import threading

import pytest

from local_runtime.stepfunctions import VirtualClock
from local_runtime.stepfunctions.retry import Retrier, RetryState, error_matches

from .helpers import fn_arn, make_engine, output, run, run_on


class PaymentFailedError(Exception):
    pass


def payment_machine():
    # seed 004's pattern: retry a failing payment 3 times (5 s, then x2), then catch it by name
    return {"StartAt": "Pay", "States": {
        "Pay": {"Type": "Task", "Resource": fn_arn("pay"),
                "Retry": [{"ErrorEquals": ["PaymentFailedError"], "IntervalSeconds": 5, "MaxAttempts": 3,
                           "BackoffRate": 2}],
                "Catch": [{"ErrorEquals": ["PaymentFailedError"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True},
        "Failed": {"Type": "Pass", "End": True}}}


def failing_payment(event):
    raise PaymentFailedError("card declined")


def test_retry_schedule_then_catch_by_name():
    clock = VirtualClock(auto_advance=True)
    execution = run(payment_machine(), {"order": 1}, functions={"pay": failing_payment}, clock=clock)
    result = output(execution)
    assert result["order"] == 1
    assert result["error"]["Error"] == "PaymentFailedError"
    assert json.loads(result["error"]["Cause"])["errorMessage"] == "card declined"
    events = execution.history.events()
    start = execution.start_date
    scheduled = [(e["timestamp"] - start).total_seconds() for e in events if e["type"] == "LambdaFunctionScheduled"]
    assert scheduled == [0, 5, 15, 35]  # first try + 3 retries: waits 5, 10, 20
    assert [e["type"] for e in events].count("LambdaFunctionFailed") == 4
    assert [e["type"] for e in events][-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_retry_waits_on_the_clock():
    # without auto-advance, the retry blocks until the test moves time forward
    clock = VirtualClock()
    calls = []

    def flaky(event):
        calls.append(clock.now())
        if len(calls) < 3:
            raise PaymentFailedError("again")
        return {"ok": True}

    engine = make_engine({"pay": flaky}, clock)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("e", run_on(engine, payment_machine(), {})),
                              daemon=True)
    thread.start()
    for attempts, step in ((1, 5), (2, 10)):
        for _ in range(1000):
            if len(calls) == attempts and clock.sleepers() == 1:
                break
            threading.Event().wait(0.002)
        clock.advance(step)
    thread.join(5)
    assert output(result["e"]) == {"ok": True}
    assert [(c - calls[0]).total_seconds() for c in calls] == [0, 5, 15]


def test_max_attempts_zero_never_retries():
    definition = payment_machine()
    definition["States"]["Pay"]["Retry"][0]["MaxAttempts"] = 0
    execution = run(definition, {}, functions={"pay": failing_payment})
    assert [e["type"] for e in execution.history.events()].count("LambdaFunctionScheduled") == 1


def test_first_matching_retrier_wins_and_counts_separately():
    state = RetryState(2)
    retriers = (Retrier(("A",), 1, 1, 2.0), Retrier(("States.ALL",), 1, 5, 2.0))
    assert state.next_delay(retriers, "A") == 1
    assert state.next_delay(retriers, "A") is None  # its own retrier is exhausted: no fall-through
    assert state.next_delay(retriers, "B") == 1
    assert state.next_delay(retriers, "B") == 2


def test_max_delay_and_full_jitter():
    retrier = Retrier(("X",), 2, 10, 3.0, max_delay_seconds=10, jitter="FULL")
    assert Retrier(("X",), 2, 10, 3.0, max_delay_seconds=10).delay(3) == 10
    assert all(0 <= retrier.delay(3) <= 10 for _ in range(50))


def test_base_delay_is_the_capped_backoff_before_jitter():
    retrier = Retrier(("X",), 2, 10, 3.0, max_delay_seconds=10, jitter="FULL")
    assert [retrier.base_delay(n) for n in range(4)] == [2, 6, 10, 10]
    # the jittered delay draws from [0, base delay]
    assert retrier.delay(1, random.Random(7)) == random.Random(7).uniform(0, 6)


@pytest.mark.parametrize("names,error,expected", [
    (("States.ALL",), "Anything", True),
    (("States.ALL",), "States.Runtime", False),
    (("States.ALL",), "States.DataLimitExceeded", False),
    (("States.TaskFailed",), "PaymentFailedError", True),
    (("States.TaskFailed",), "States.Timeout", False),
    (("States.Timeout",), "States.Timeout", True),
    (("PaymentFailedError",), "paymentfailederror", False),
    (("A", "B"), "B", True),
])
def test_error_matching(names, error, expected):
    assert error_matches(names, error) is expected


def test_task_timeout_is_not_task_failed():
    clock = VirtualClock(auto_advance=True, work_grace=0.05)
    gate = threading.Event()

    def slow(event):
        gate.wait(5)
        return {}

    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": fn_arn("slow"), "TimeoutSeconds": 3,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "TaskFailed"},
                        {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "End": True},
        "TaskFailed": {"Type": "Pass", "Result": "failed", "End": True},
        "TimedOut": {"Type": "Pass", "Result": "timeout", "End": True}}}
    execution = run(definition, {}, functions={"slow": slow}, clock=clock)
    gate.set()
    assert output(execution) == "timeout"
    assert "LambdaFunctionTimedOut" in execution.history.types()


def test_catch_all_with_default_result_path_replaces_input():
    definition = {"StartAt": "F", "States": {
        "F": {"Type": "Task", "Resource": fn_arn("missing"), "Catch": [{"ErrorEquals": ["States.ALL"],
                                                                          "Next": "Done"}], "End": True},
        "Done": {"Type": "Succeed"}}}
    result = output(run(definition, {"a": 1}))
    assert result["Error"] == "Lambda.ResourceNotFoundException"
    assert result["Cause"].startswith("Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing")


def test_runtime_error_is_not_caught():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": fn_arn("f"), "InputPath": "$.nope",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "End": True},
        "Done": {"Type": "Succeed"}}}
    execution = run(definition, {}, functions={"f": lambda e: e})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_retry_count_in_context():
    attempts = []

    def flaky(event):
        attempts.append(event["retry"])
        if len(attempts) < 3:
            raise PaymentFailedError("x")
        return event

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": fn_arn("f"), "Parameters": {"retry.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}], "End": True}}}
    assert output(run(definition, {}, functions={"f": flaky})) == {"retry": 2}
    assert attempts == [0, 1, 2]
