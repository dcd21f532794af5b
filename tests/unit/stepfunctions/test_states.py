import json
import threading
import time

from local_runtime.stepfunctions import VirtualClock

from .helpers import fn_arn, make_engine, output, run, run_on


def test_pass_result_and_parameters():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"x.$": "$.v"}, "ResultPath": "$.p", "Next": "B"},
        "B": {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.p.r", "End": True}}}
    assert output(run(definition, {"v": 2})) == {"v": 2, "p": {"x": 2, "r": {"r": 1}}}


def test_parallel_output_in_branch_order():
    def slow(event):
        time.sleep(0.05)
        return "slow"

    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": fn_arn("slow"), "End": True}}},
        {"StartAt": "F", "States": {"F": {"Type": "Pass", "Result": "fast", "End": True}}},
        {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}]}}}
    assert output(run(definition, {"in": 1}, functions={"slow": slow})) == ["slow", "fast", {"in": 1}]


def test_parallel_branch_failure_surfaces_the_branch_error():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}]}}}
    clock = VirtualClock()  # the Wait branch blocks: the failure must cancel it
    execution = run(definition, {}, clock=clock)
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "Boom", "bad")
    types = execution.history.types()
    assert "ParallelStateFailed" in types and "ParallelStateSucceeded" not in types


def test_parallel_caught_error():
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Ok", "Catch": [{"ErrorEquals": ["Boom"], "Next": "Caught",
                                                           "ResultPath": "$.err"}],
              "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}}]},
        "Ok": {"Type": "Succeed"}, "Caught": {"Type": "Succeed"}}}
    assert output(run(definition, {"a": 1})) == {"a": 1, "err": {"Error": "Boom", "Cause": "c"}}


def test_map_with_item_selector_and_max_concurrency():
    active = []
    peak = [0]
    lock = threading.Lock()

    def work(event):
        with lock:
            active.append(1)
            peak[0] = max(peak[0], len(active))
        time.sleep(0.02)
        with lock:
            active.pop()
        return event["value"] * 10 + event["index"]

    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "k.$": "$.k"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": fn_arn("work"), "End": True}}},
        "ResultPath": "$.out", "End": True}}}
    result = output(run(definition, {"items": [1, 2, 3, 4, 5], "k": "x"}, functions={"work": work}))
    assert result["out"] == [10, 21, 32, 43, 54]
    assert peak[0] == 2


def test_map_legacy_iterator_and_parameters():
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "Parameters": {"v.$": "$$.Map.Item.Value"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
    assert output(run(definition, ["a", "b"])) == [{"v": "a"}, {"v": "b"}]


def test_map_failure_and_tolerated_failures():
    processor = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}], "Default": "P"},
        "F": {"Type": "Fail", "Error": "Two", "Cause": "item 2"}, "P": {"Type": "Pass", "End": True}}}
    strict = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}}}
    execution = run(strict, [1, 2, 3])
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "Two", "item 2")
    tolerant = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor,
                                                 "ToleratedFailureCount": 1, "End": True}}}
    assert output(run(tolerant, [1, 2, 3])) == [1, {"Error": "Two", "Cause": "item 2"}, 3]
    execution = run(tolerant, [2, 2, 3])
    assert execution.error == "States.ExceedToleratedFailureThreshold"


def test_map_items_must_be_an_array():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.a", "ItemProcessor": {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
    assert run(definition, {"a": "x"}).error == "States.Runtime"


def test_wait_variants_use_the_clock():
    clock = VirtualClock(auto_advance=True)
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 10, "Next": "B"},
        "B": {"Type": "Wait", "SecondsPath": "$.s", "Next": "C"},
        "C": {"Type": "Wait", "TimestampPath": "$.ts", "Next": "D"},
        "D": {"Type": "Wait", "Timestamp": "2024-01-01T00:02:00Z", "End": True}}}
    execution = run(definition, {"s": 20, "ts": "2024-01-01T00:01:00Z"}, clock=clock)
    assert output(execution) == {"s": 20, "ts": "2024-01-01T00:01:00Z"}
    exits = [(e["timestamp"] - execution.start_date).total_seconds() for e in execution.history.events()
             if e["type"] == "WaitStateExited"]
    assert exits == [10, 30, 60, 120]


def test_fail_with_error_path_and_cause_path():
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}}
    execution = run(definition, {"e": "CustomError", "c": "why"})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "CustomError", "why")
    assert execution.history.types()[-2:] == ["FailStateEntered", "ExecutionFailed"]


def test_context_object():
    definition = {"StartAt": "Ctx", "States": {"Ctx": {"Type": "Pass", "Parameters": {
        "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input",
        "start.$": "$$.Execution.StartTime", "state.$": "$$.State", "machine.$": "$$.StateMachine.Name",
        "redrive.$": "$$.Execution.RedriveCount"}, "Next": "Task"},
        "Task": {"Type": "Task", "Resource": fn_arn("echo"), "Parameters": {"state.$": "$$.State"}, "End": True}}}
    result = output(run(definition, {"a": 1}, functions={"echo": lambda event: {"pass": event}}))
    # the context object of a Pass state has no State.RetryCount (AWS-recorded); a Task state's has
    assert result == {"pass": {"state": {"Name": "Task", "EnteredTime": "2024-01-01T00:00:00.000Z", "RetryCount": 0}}}
    alone = {k: v for k, v in definition["States"]["Ctx"].items() if k != "Next"} | {"End": True}
    pass_state = output(run({"StartAt": "Ctx", "States": {"Ctx": alone}}, {"a": 1}))
    assert pass_state == {"id": "arn:aws:states:us-east-1:123456789012:execution:machine:exec", "name": "exec",
                          "input": {"a": 1}, "start": "2024-01-01T00:00:00.000Z",
                          "state": {"EnteredTime": "2024-01-01T00:00:00.000Z", "Name": "Ctx"}, "machine": "machine",
                          "redrive": 0}


def test_data_limit_exceeded():
    definition = {"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Parameters": {
        "x.$": "States.ArrayRange(1, 1000, 1)"}, "Next": "Grow"},
        "Grow": {"Type": "Task", "Resource": fn_arn("grow"), "End": True}}}
    execution = run(definition, {}, functions={"grow": lambda e: "x" * 300_000})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")


def test_stop_execution_aborts_a_wait_promptly():
    engine = make_engine(clock=VirtualClock())
    program = engine.compile({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = engine.start(program, arn="arn:aws:states:us-east-1:123456789012:execution:m:e", name="e",
                             state_machine_arn="sm", state_machine_name="m", input_text="{}")
    time.sleep(0.02)
    engine.stop(execution.arn, "Why", "because")
    assert engine.wait(execution.arn, 2).done.is_set()
    assert (execution.status, execution.error, execution.cause) == ("ABORTED", "Why", "because")
    assert execution.history.types()[-1] == "ExecutionAborted"


def test_execution_timeout():
    clock = VirtualClock(auto_advance=True)
    definition = {"StartAt": "W", "TimeoutSeconds": 5, "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}
    engine = make_engine(clock=VirtualClock())
    program = engine.compile(definition)
    execution = engine.start(program, arn="arn:e", name="e", state_machine_arn="sm", state_machine_name="m",
                             input_text="{}")
    for _ in range(500):
        if engine.clock.sleepers() == 2:
            break
        time.sleep(0.002)
    engine.clock.advance(6)
    engine.wait(execution.arn, 2)
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.history.types()[-1] == "ExecutionTimedOut"
    del clock


def test_wait_for_task_token_success_and_failure():
    engine = make_engine(clock=VirtualClock())
    tokens = []
    engine.integrations.lambda_invoke.functions["notify"] = lambda e: tokens.append(e["token"]) or {"sent": 1}
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    program = engine.compile(definition)
    first = engine.start(program, arn="arn:e1", name="e1", state_machine_arn="sm", state_machine_name="m")
    for _ in range(500):
        if tokens:
            break
        time.sleep(0.002)
    engine.callbacks.succeed(tokens[0], {"approved": True})
    engine.wait(first.arn, 2)
    assert json.loads(first.output) == {"approved": True}
    assert "TaskSubmitted" in first.history.types()
    second = engine.start(program, arn="arn:e2", name="e2", state_machine_arn="sm", state_machine_name="m")
    for _ in range(500):
        if len(tokens) == 2:
            break
        time.sleep(0.002)
    engine.callbacks.fail(tokens[1], "Rejected", "no")
    engine.wait(second.arn, 2)
    assert (second.status, second.error, second.cause) == ("FAILED", "Rejected", "no")


def test_heartbeat_timeout():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "HeartbeatSeconds": 5,
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    execution = run(definition, {}, functions={"notify": lambda e: {}}, clock=VirtualClock(auto_advance=True))
    assert (execution.status, execution.error) == ("FAILED", "States.HeartbeatTimeout")
    assert "TaskTimedOut" in execution.history.types()


def test_executions_share_a_parsed_program():
    engine = make_engine()
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$.v"},
                                                   "ResultPath": "$.r", "End": True}}}
    assert engine.compile(definition) is engine.compile(json.dumps(definition))
    results = [output(run_on(engine, definition, {"v": i}, name=f"e{i}")) for i in range(3)]
    assert results == [{"v": i, "r": {"v": i}} for i in range(3)]


def test_definitions_aws_accepts_run():
    # AWS-recorded: AWS accepts a legacy Iterator that carries a ProcessorConfig, and ErrorPath/CausePath given as
    # context paths (statelint 3.1.0 rejects both)
    legacy = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.a", "End": True, "Iterator": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    assert output(run(legacy, {"a": [1, 2]})) == [1, 2]
    context_paths = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$$.State.Name",
                                                       "CausePath": "$$.StateMachine.Name"}}}
    execution = run(context_paths, {})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "F", "machine")
    # AWS-recorded: a Map's ItemsPath given as a context path iterates the items it selects
    items_context = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$$.Execution.Input.input-values", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "H", "States": {"H": {"Type": "Pass", "End": True}}}}}}
    assert output(run(items_context, {"input-values": ["item-0"]})) == ["item-0"]
