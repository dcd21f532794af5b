"""Executions hold no thread while they wait, task timeouts do not count local queueing, old executions are forgotten.

Deterministic: a VirtualClock that only moves when the test advances it, fake Lambda invokers gated by Events, and
polls that wait for a state (not for time) to be reached.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from tests.support.polling import wait_until

from .helpers import FakeLambda, fn_arn

ROLE = "arn:aws:iam::123456789012:role/r"


def until(condition, what: str, seconds: float = 20.0) -> None:
    """Poll for a state the engine reaches (a wait for progress, not a timing assumption)."""
    wait_until(condition, seconds, f"not reached within {seconds} s: {what}", interval=0.002)


def service_with(engine: Engine, definition: dict) -> tuple[StepFunctionsService, str]:
    service = StepFunctionsService(engine)
    arn = service.handle("CreateStateMachine", {"name": "m", "definition": json.dumps(definition),
                                                "roleArn": ROLE})["stateMachineArn"]
    return service, arn


def start(service: StepFunctionsService, arn: str, name: str, data: dict | None = None) -> str:
    return service.handle("StartExecution", {"stateMachineArn": arn, "name": name,
                                             "input": json.dumps(data or {})})["executionArn"]


# -- no thread per waiting execution ------------------------------------------------------------------------------

def test_500_executions_waiting_on_task_tokens_hold_no_thread_each():
    tokens: list[str] = []
    lock = threading.Lock()

    def notify(event):
        with lock:
            tokens.append(event["token"])
        return {}

    engine = Engine(VirtualClock(), Integrations(lambda_invoke=FakeLambda({"notify": notify})), max_task_workers=8)
    service, arn = service_with(engine, {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}})
    before = threading.active_count()
    arns = [start(service, arn, f"e{i}") for i in range(500)]
    until(lambda: len(tokens) == 500, "500 tokens handed out")
    peak = threading.active_count()
    assert peak - before <= 8 + 3, (before, peak)  # the task pool (8), the scheduler, the timer thread; not 500
    for token in tokens:
        service.handle("SendTaskSuccess", {"taskToken": token, "output": '{"approved": true}'})
    for execution_arn in arns:
        assert engine.wait(execution_arn, 10).status == "SUCCEEDED"
    assert json.loads(engine.get(arns[0]).output) == {"approved": True}


def test_500_executions_in_a_wait_state_and_their_map_iterations_hold_no_thread_each():
    clock = VirtualClock()
    engine = Engine(clock, Integrations(), max_task_workers=4)
    service, arn = service_with(engine, {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0, "End": True,
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}}}})
    before = threading.active_count()
    arns = [start(service, arn, f"e{i}", {"items": [1, 2, 3, 4]}) for i in range(500)]
    until(lambda: clock.sleepers() == 2000, "2,000 Map iterations waiting")
    assert threading.active_count() - before <= 3  # scheduler (+ timers); before: one thread per iteration
    clock.advance(60)
    for execution_arn in arns:
        assert engine.wait(execution_arn, 10).status == "SUCCEEDED"
    assert json.loads(engine.get(arns[-1]).output) == [1, 2, 3, 4]


def test_stop_execution_wakes_a_parked_execution():
    clock = VirtualClock()
    engine = Engine(clock, Integrations())
    service, arn = service_with(engine, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600,
                                                                           "End": True}}})
    execution_arn = start(service, arn, "e")
    until(lambda: clock.sleepers() == 1, "the Wait parked")
    service.handle("StopExecution", {"executionArn": execution_arn, "error": "E", "cause": "C"})
    assert engine.wait(execution_arn, 5).done.is_set()
    assert engine.get(execution_arn).status == "ABORTED"
    until(lambda: clock.sleepers() == 0, "the Wait's timer cancelled")


# -- task timeouts count from the worker's start -----------------------------------------------------------------

class GatedLambda:
    """An invoker with ``on_start``: each call waits for ``free`` (no worker available) before the worker takes it,
    then for ``finish``."""

    def __init__(self) -> None:
        self.free = threading.Event()
        self.finish = threading.Event()
        self.called = threading.Event()
        self.started = threading.Event()

    def __call__(self, name: str, payload: bytes, on_start=None):
        self.called.set()
        assert self.free.wait(20)
        if on_start is not None:
            on_start()
        self.started.set()
        assert self.finish.wait(20)
        return b'{"ok": true}', None


TIMED_TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                             "Parameters": {"FunctionName": "f", "Payload": {}},
                                             "OutputPath": "$.Payload", "TimeoutSeconds": 5, "End": True}}}


def settle(clock: VirtualClock, timers: int) -> None:
    """Before the change a task's timeout timer started when the call was submitted: give such timers the chance
    to appear (so the test fails on that code), without depending on them."""
    deadline = time.monotonic() + 1.0
    while clock.sleepers() < timers and time.monotonic() < deadline:
        time.sleep(0.002)


def test_time_waiting_for_a_lambda_worker_is_not_task_time():
    clock = VirtualClock()
    invoker = GatedLambda()
    engine = Engine(clock, Integrations(lambda_invoke=invoker))
    service, arn = service_with(engine, TIMED_TASK)
    execution_arn = start(service, arn, "e")
    assert invoker.called.wait(10)
    settle(clock, 1)
    clock.advance(100)  # 100 s queued for a worker: more than the task's TimeoutSeconds (5)
    until(lambda: clock.sleepers() == 0, "no timer left waiting")  # (a timer that was there has fired)
    assert engine.get(execution_arn).status == "RUNNING"
    assert engine.queued_calls() == 1  # the backlog the local runtime's API throttles on
    invoker.free.set()
    assert invoker.started.wait(10)
    until(lambda: engine.queued_calls() == 0, "the call left the queue")
    invoker.finish.set()
    execution = engine.wait(execution_arn, 10)
    assert (execution.status, execution.error) == ("SUCCEEDED", None)
    assert json.loads(execution.output) == {"ok": True}
    assert "LambdaFunctionTimedOut" not in execution.history.types()


def test_the_task_timeout_counts_from_the_workers_start():
    clock = VirtualClock()
    invoker = GatedLambda()
    invoker.free.set()
    engine = Engine(clock, Integrations(lambda_invoke=invoker))
    service, arn = service_with(engine, TIMED_TASK)
    execution_arn = start(service, arn, "e")
    assert invoker.started.wait(10)
    until(lambda: clock.sleepers() == 1, "the task's timeout timer")
    clock.advance(4.9)
    assert engine.get(execution_arn).status == "RUNNING"
    clock.advance(0.2)
    execution = engine.wait(execution_arn, 10)
    invoker.finish.set()
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert execution.history.types()[-2] == "TaskTimedOut"


def test_time_queued_for_the_engines_task_pool_is_not_task_time():
    clock = VirtualClock()
    gate = threading.Event()
    calls: list[str] = []

    def hold(event):
        calls.append("hold")
        assert gate.wait(20)
        return {"held": True}

    def quick(event):
        calls.append("quick")
        return {"quick": True}

    # one pool thread: the second execution's call waits in the pool's queue behind the first
    engine = Engine(clock, Integrations(lambda_invoke=FakeLambda({"hold": hold, "quick": quick})), max_task_workers=1)
    service, arn = service_with(engine, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.fn", "Payload": {}}, "OutputPath": "$.Payload",
        "TimeoutSecondsPath": "$.timeout", "End": True}}})
    first = start(service, arn, "first", {"fn": "hold", "timeout": 1000})
    until(lambda: calls == ["hold"], "the first call holds the pool")
    second = start(service, arn, "second", {"fn": "quick", "timeout": 5})
    until(lambda: clock.sleepers() >= 1, "the first call's timeout timer")
    settle(clock, 2)
    clock.advance(100)  # the second call: 100 s queued behind the first, more than its TimeoutSeconds (5)
    until(lambda: clock.sleepers() == 1, "only the first call's timer left")
    assert engine.get(second).status == "RUNNING"
    assert engine.queued_calls() == 1
    gate.set()
    assert engine.wait(first, 10).status == "SUCCEEDED"
    execution = engine.wait(second, 10)
    assert (execution.status, execution.error) == ("SUCCEEDED", None)
    assert json.loads(execution.output) == {"quick": True}
    assert calls == ["hold", "quick"]
    assert engine.queued_calls() == 0


def test_a_call_still_queued_when_its_execution_stops_never_runs():
    gate = threading.Event()
    calls: list[str] = []

    def hold(event):
        calls.append("hold")
        assert gate.wait(20)
        return {}

    engine = Engine(VirtualClock(), Integrations(lambda_invoke=FakeLambda({"hold": hold, "never": calls.append})),
                    max_task_workers=1)
    service, arn = service_with(engine, {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.fn"},
        "End": True}}})
    first = start(service, arn, "first", {"fn": "hold"})
    until(lambda: calls == ["hold"], "the first call holds the pool")
    second = start(service, arn, "second", {"fn": "never"})
    until(lambda: engine.queued_calls() == 1, "the second call queued")
    service.handle("StopExecution", {"executionArn": second})
    assert engine.wait(second, 10).status == "ABORTED"
    until(lambda: engine.queued_calls() == 0, "the queue emptied")
    gate.set()
    assert engine.wait(first, 10).status == "SUCCEEDED"
    engine.pool.shutdown(wait=True)
    assert calls == ["hold"]


# -- finished executions are kept up to a bound ------------------------------------------------------------------

def test_finished_executions_beyond_the_bound_are_forgotten_oldest_first():
    engine = Engine(VirtualClock(auto_advance=True), Integrations(), max_finished=3)
    service, arn = service_with(engine, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    arns = []
    for i in range(5):
        arns.append(start(service, arn, f"e{i}"))
        engine.wait(arns[-1], 10)
    listed = service.handle("ListExecutions", {"stateMachineArn": arn})["executions"]
    assert [e["name"] for e in listed] == ["e4", "e3", "e2"]
    for forgotten in arns[:2]:
        with pytest.raises(errors.ExecutionDoesNotExist):
            service.handle("DescribeExecution", {"executionArn": forgotten})
        with pytest.raises(errors.ExecutionDoesNotExist):
            service.handle("GetExecutionHistory", {"executionArn": forgotten})
    assert service.handle("DescribeExecution", {"executionArn": arns[2]})["status"] == "SUCCEEDED"
    assert len(engine.executions) == 3 and len(service._execution_machine) == 3


def test_running_executions_are_never_forgotten():
    clock = VirtualClock()
    engine = Engine(clock, Integrations(), max_finished=1)
    service, arn = service_with(engine, {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s",
                                                                           "End": True}}})
    waiting = [start(service, arn, f"w{i}", {"s": 100}) for i in range(3)]
    done = [start(service, arn, f"d{i}", {"s": 0}) for i in range(3)]
    for execution_arn in done:
        until(lambda: engine.get(execution_arn) is None or engine.get(execution_arn).done.is_set(), "done")
    until(lambda: engine.running_count() == 3, "three running")
    assert sorted(a.rsplit(":", 1)[1] for a in engine.executions) == ["d2", "w0", "w1", "w2"]
    clock.advance(100)
    for execution_arn in waiting:
        until(lambda: execution_arn not in engine.executions or engine.get(execution_arn).done.is_set(), "done")
    assert engine.running_count() == 0
    assert len(engine.executions) == 1


def test_cancelled_real_timers_free_what_they_hold_and_are_compacted():
    from local_runtime.stepfunctions.clock import _RealTimers

    timers = _RealTimers()
    held = [object() for _ in range(3000)]
    entries = [timers.add(3600, (lambda item: lambda: item)(item)) for item in held]
    for entry in entries:
        entry.cancel()
    assert all(entry.callback is None for entry in entries)  # nothing held for the hour until their time
    timers.add(3600, lambda: None)
    assert len(timers) == 1  # compacted: one live timer


def test_a_finished_history_keeps_payloads_as_text_only():
    engine = Engine(VirtualClock(auto_advance=True), Integrations(lambda_invoke=FakeLambda({"f": lambda e: {"r": [1, 2]}})))
    service, arn = service_with(engine, {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("f"),
                                                                           "End": True}}})
    execution_arn = start(service, arn, "e", {"a": {"b": "c"}})
    execution = engine.wait(execution_arn, 10)
    # frozen: every payload serialised while the execution ran keeps its text only (one never needed keeps its value)
    until(lambda: all(p.value is None for p in _payloads(execution) if p._text is not None), "the history frozen")
    assert sum(p.value is None for p in _payloads(execution)) >= 4
    history = service.handle("GetExecutionHistory", {"executionArn": execution_arn})["events"]
    succeeded = next(e for e in history if e["type"] == "LambdaFunctionSucceeded")
    assert succeeded["lambdaFunctionSucceededEventDetails"]["output"] == '{"r":[1,2]}'
    assert history[0]["executionStartedEventDetails"]["input"] == '{"a": {"b": "c"}}'  # as sent


def _payloads(execution):
    from local_runtime.stepfunctions.payloads import Payload

    return [value for event in execution.history._events for value in (event[4] or {}).values()
            if isinstance(value, Payload)]
