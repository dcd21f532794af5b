"""Runtime failures inside an execution: an ASL error name plus a cause string.

These never leave the engine as exceptions of the API; they become a state's or an execution's
``error``/``cause``. Names follow the ASL spec's ``States.*`` error codes.
"""
from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
BRANCH_FAILED = "States.BranchFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"  # a JSONata expression failed or gave a wrong type

# errors that neither Retry nor Catch can handle, whatever the ErrorEquals (AWS: "States.ALL ... cannot catch the
# States.DataLimitExceeded terminal error and Runtime error types")
TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """A failure with an ASL error name, raised while a state runs."""

    def __init__(self, error: str, cause: str = "", terminal: bool | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        # terminal: no Retry or Catch handles it (the TERMINAL names by default; AWS catches a task result over the
        # size limit, States.DataLimitExceeded, like any task failure, States.ALL included)
        self.terminal = error in TERMINAL if terminal is None else terminal


class ExecutionCancelled(Exception):
    """The execution was stopped (StopExecution) or timed out: unwind without further transitions."""
