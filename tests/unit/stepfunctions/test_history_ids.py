"""History event ids: which event each event names as its previousEventId, as AWS records it.

Each expectation is an execution recorded on AWS (GetExecutionHistory of the same definition and input), restated
here as (type, id, previousEventId) triples.
"""
from .helpers import run

PASS = {"Type": "Pass", "End": True}


def ids(execution) -> list[tuple[str, int, int]]:
    return [(e["type"], e["id"], e["previousEventId"]) for e in execution.history.events()]


def test_first_state_entered_names_no_previous_event():
    # AWS answers: ExecutionStarted (1, 0), PassStateEntered (2, 0), PassStateExited (3, 2), ExecutionSucceeded (4, 3)
    execution = run({"StartAt": "A", "States": {"A": PASS}})
    assert ids(execution) == [("ExecutionStarted", 1, 0), ("PassStateEntered", 2, 0), ("PassStateExited", 3, 2),
                              ("ExecutionSucceeded", 4, 3)]


def test_map_with_max_concurrency_1_chains_iterations_and_exits_after_the_last_iteration():
    # AWS, Map over [1,2,3] with MaxConcurrency 1: each next MapIterationStarted follows the previous iteration's
    # last state event (not its MapIterationSucceeded); MapStateExited has the previousEventId of MapStateSucceeded
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": PASS}}}}}
    execution = run(definition, [1, 2, 3])
    assert ids(execution) == [
        ("ExecutionStarted", 1, 0), ("MapStateEntered", 2, 0), ("MapStateStarted", 3, 2),
        ("MapIterationStarted", 4, 3), ("PassStateEntered", 5, 4), ("PassStateExited", 6, 5),
        ("MapIterationSucceeded", 7, 6),
        ("MapIterationStarted", 8, 6), ("PassStateEntered", 9, 8), ("PassStateExited", 10, 9),
        ("MapIterationSucceeded", 11, 10),
        ("MapIterationStarted", 12, 10), ("PassStateEntered", 13, 12), ("PassStateExited", 14, 13),
        ("MapIterationSucceeded", 15, 14),
        ("MapStateSucceeded", 16, 15), ("MapStateExited", 17, 15), ("ExecutionSucceeded", 18, 17)]


def test_map_without_max_concurrency_starts_every_iteration_from_map_state_started():
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": PASS}}}}}
    execution = run(definition, [1, 2])
    started = [e["previousEventId"] for e in execution.history.events() if e["type"] == "MapIterationStarted"]
    assert started == [3, 3]
    exited = [e for e in execution.history.events() if e["type"] in ("MapStateSucceeded", "MapStateExited")]
    assert exited[0]["previousEventId"] == exited[1]["previousEventId"] == exited[0]["id"] - 1


def test_parallel_state_exited_has_the_previous_event_of_parallel_state_succeeded():
    # AWS, Parallel of three one-Pass branches: ParallelStateSucceeded (12, 11), ParallelStateExited (13, 11)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": b, "States": {b: PASS}} for b in ("B1", "B2", "B3")]}}}
    execution = run(definition, {})
    assert ids(execution)[-3:] == [("ParallelStateSucceeded", 10, 9), ("ParallelStateExited", 11, 9),
                                   ("ExecutionSucceeded", 12, 11)]


def test_evaluation_failed_has_the_previous_event_of_the_failing_state_entered():
    # AWS, JSONata Pass, Pass, then a Pass whose Output is undefined: EvaluationFailed (7, 5) after
    # PassStateEntered (6, 5); ExecutionFailed (8, 7)
    definition = {"QueryLanguage": "JSONata", "StartAt": "S0", "States": {
        "S0": {"Type": "Pass", "Next": "S1"}, "S1": {"Type": "Pass", "Next": "S2"},
        "S2": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True}}}
    execution = run(definition, {})
    assert ids(execution)[-3:] == [("PassStateEntered", 6, 5), ("EvaluationFailed", 7, 5), ("ExecutionFailed", 8, 7)]
    assert execution.cause == ("An error occurred while executing the state 'S2' (entered at the event id #6). The "
                               "JSONata expression '$doesNotExist' specified for the field 'Output/result' returned "
                               "nothing (undefined).")


FAIL_MAP = {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {
    "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "F",
    "States": {"F": {"Type": "Fail", "Error": "ItemError", "Cause": "ItemCause"}}}}


def test_a_failed_map_is_retried_without_map_state_failed_between_attempts():
    # AWS, a Map whose only iteration fails, Retry MaxAttempts 2: three attempts, each MapStateStarted following the
    # previous attempt's FailStateEntered; one MapStateFailed at the end, following the last FailStateEntered
    definition = {"StartAt": "M", "States": {"M": dict(FAIL_MAP, End=True, Retry=[
        {"ErrorEquals": ["ItemError"], "MaxAttempts": 2}])}}
    execution = run(definition, [1])
    assert ids(execution) == [
        ("ExecutionStarted", 1, 0), ("MapStateEntered", 2, 0),
        ("MapStateStarted", 3, 2), ("MapIterationStarted", 4, 3), ("FailStateEntered", 5, 4),
        ("MapIterationFailed", 6, 5),
        ("MapStateStarted", 7, 5), ("MapIterationStarted", 8, 7), ("FailStateEntered", 9, 8),
        ("MapIterationFailed", 10, 9),
        ("MapStateStarted", 11, 9), ("MapIterationStarted", 12, 11), ("FailStateEntered", 13, 12),
        ("MapIterationFailed", 14, 13),
        ("MapStateFailed", 15, 13), ("ExecutionFailed", 16, 15)]
    assert (execution.error, execution.cause) == ("ItemError", "ItemCause")


def test_a_caught_map_failure_records_map_state_failed_then_exits():
    # AWS: FailStateEntered (5), MapIterationFailed (6, 5), MapStateFailed (7, 5), MapStateExited (8, 7)
    definition = {"StartAt": "M", "States": {
        "M": dict(FAIL_MAP, Next="Done", Catch=[{"ErrorEquals": ["ItemError"], "Next": "Caught"}]),
        "Caught": PASS, "Done": PASS}}
    execution = run(definition, [1])
    assert ids(execution)[4:9] == [("FailStateEntered", 5, 4), ("MapIterationFailed", 6, 5),
                                   ("MapStateFailed", 7, 5), ("MapStateExited", 8, 7), ("PassStateEntered", 9, 8)]


def test_a_failed_parallel_is_retried_without_parallel_state_failed_between_attempts():
    # AWS, a Parallel whose one branch fails, Retry MaxAttempts 2: ParallelStateStarted (3, 2), FailStateEntered
    # (4, 3), ParallelStateStarted (5, 4), ... one ParallelStateFailed (9, 8) at the end, ExecutionFailed (10, 9)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}],
        "Retry": [{"ErrorEquals": ["FailureType"], "MaxAttempts": 2}]}}}
    execution = run(definition, {})
    assert ids(execution) == [
        ("ExecutionStarted", 1, 0), ("ParallelStateEntered", 2, 0),
        ("ParallelStateStarted", 3, 2), ("FailStateEntered", 4, 3),
        ("ParallelStateStarted", 5, 4), ("FailStateEntered", 6, 5),
        ("ParallelStateStarted", 7, 6), ("FailStateEntered", 8, 7),
        ("ParallelStateFailed", 9, 8), ("ExecutionFailed", 10, 9)]
    assert (execution.error, execution.cause) == ("FailureType", "Cause description")
