"""TIME_SCALE semantics: Waits, retries and callback timeouts are scaled; a task's TimeoutSeconds around real work is
not (a Lambda cold start does not get faster when the clock is scaled)."""
import time

from local_runtime.stepfunctions import ScaledClock

from tests.unit.stepfunctions.helpers import fn_arn, output, run


def _slow(event):
    time.sleep(0.3)      # real work: longer than 2 s * 0.01, shorter than 2 s
    return {"done": True}


def test_task_timeout_around_real_work_is_not_scaled():
    definition = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": fn_arn("slow"), "TimeoutSeconds": 2, "End": True}}}
    execution = run(definition, {}, functions={"slow": _slow}, clock=ScaledClock(0.01))
    assert output(execution) == {"done": True}


def test_task_timeout_still_fires_for_work_that_outlives_it():
    definition = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": fn_arn("slower"), "TimeoutSeconds": 1, "End": True}}}
    execution = run(definition, {}, functions={"slower": lambda event: time.sleep(1.5)}, clock=ScaledClock(0.01))
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")


def test_callback_timeout_is_scaled():
    definition = {"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 30, "End": True}}}
    started = time.monotonic()
    execution = run(definition, {}, functions={"notify": lambda event: {}}, clock=ScaledClock(0.01))
    # nobody answers the token: 30 s at scale 0.01 is 0.3 s of real time
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert time.monotonic() - started < 10


def test_callback_heartbeat_is_scaled():
    definition = {"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 600, "HeartbeatSeconds": 20, "End": True}}}
    started = time.monotonic()
    execution = run(definition, {}, functions={"notify": lambda event: {}}, clock=ScaledClock(0.01))
    assert (execution.status, execution.error) == ("FAILED", "States.HeartbeatTimeout")
    assert time.monotonic() - started < 10
