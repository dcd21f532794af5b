"""Running a program: ``Execution`` (one StartExecution) and ``Branch`` (one thread of control inside it).

A Branch walks states, records history events and owns the context object ``$$``. Parallel branches and Map
iterations run as child Branches (tasks of the execution's scheduler, scheduler.py), with a child cancel scope: a
failing sibling or a StopExecution cancels every sleep and wait below it. Nothing here blocks a thread: waits go
through ``scheduler.wait`` (the execution parks) and task calls run on the task pool.

An execution sees its ``Environment`` (environment.py: clock, task pool, callbacks, integrations, mocks, the
finished hook), never the engine. A Task's work is its component's (integrations/): the branch computes the
parameters, checks sizes, answers from a mock, and records what the component says to record.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Callable

from . import failures
from .clock import DEADLINE, SLEEP, WORK
from .environment import Environment
from .failures import ExecutionCancelled, StatesError
from .history import History
from .paths import VARIABLES
from .payloads import Payload, dumps, over_limit
from .scheduler import Flag, current_task, join, spawn, wait
from .states import Map, Parallel, Program, Task
from .timefmt import epoch_seconds, iso
from .variables import Scope

LOG = logging.getLogger(__name__)
RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"
_RETRYING_TYPES = frozenset({"Task", "Parallel", "Map"})  # the states whose context object has State.RetryCount
RUNTIME_CAUSE_PREFIX = "An error occurred while executing the state"
MAP_CONCURRENCY_CAP = 40  # an inline Map runs at most 40 iterations at once (AWS); MaxConcurrency 0 means this


def internal_error_cause(state_name: str, entered_event: int) -> str:
    """The States.Runtime cause of an internal error of this engine: AWS-shaped, with no Python text (the traceback
    goes to the log)."""
    return (f"{RUNTIME_CAUSE_PREFIX} '{state_name}' (entered at the event id #{entered_event}). The local engine "
            f"could not run the state (an internal error; see the runtime log).")


class CancelScope(Flag):
    """A Flag whose ``set()`` also sets every child scope (execution > Parallel/Map > branch > task wait)."""

    def __init__(self) -> None:
        super().__init__()
        self._children: set[CancelScope] = set()
        self._lock = threading.Lock()

    def child(self) -> "CancelScope":
        scope = CancelScope()
        with self._lock:
            self._children.add(scope)
            if self.is_set():
                scope.set()
        return scope

    def release(self, scope: "CancelScope") -> None:
        with self._lock:
            self._children.discard(scope)

    def set(self) -> None:
        super().set()
        with self._lock:
            children = list(self._children)
        for child in children:
            child.set()


class Execution:
    """One execution: status, input/output, error/cause, dates, history. Fields follow DescribeExecution."""

    def __init__(self, env: Environment, program: Program, arn: str, name: str, state_machine_arn: str,
                 state_machine_name: str, input_text: str, input_value: Any, role_arn: str = "",
                 machine_type: str = "STANDARD") -> None:
        self.env = env
        self.program = program
        self.arn = arn
        self.name = name
        self.state_machine_arn = state_machine_arn
        self.state_machine_name = state_machine_name
        self.input = input_text
        self.input_value = input_value
        self.role_arn = role_arn
        self.type = machine_type
        self.status = RUNNING
        self.output: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_date = env.clock.now()
        self.stop_date: datetime | None = None
        self.history = History(env.clock)
        self.cancel = CancelScope()
        self.done = Flag()  # set once run() has returned (status, output and history are final)
        self.redrive_count = 0
        self._lock = threading.Lock()
        self._timeout_timer = None  # the clock timer of the execution's TimeoutSeconds
        self._context_execution = {
            "Id": arn, "Input": input_value, "Name": name, "RoleArn": role_arn, "StartTime": iso(self.start_date),
            "RedriveCount": 0,
        }
        self._context_machine = {"Id": state_machine_arn, "Name": state_machine_name}

    # -- lifecycle ------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run to completion in the calling thread."""
        history = self.history
        history.add("ExecutionStarted", 0, {
            "input": Payload(self.input_value, self.input), "inputDetails": {"truncated": False},
            "roleArn": self.role_arn,
        })
        branch = Branch(self, self.cancel, 0)  # AWS: the first StateEntered has previousEventId 0
        if self.program.timeout_seconds:
            self._timeout_timer = self.env.clock.call_later(self.program.timeout_seconds, self._timed_out, DEADLINE)
        try:
            output = branch.run_program(self.program, self.input_value)
            text = dumps(output)  # within PAYLOAD_LIMIT: every state's output was checked as it left the state
            self._finish(SUCCEEDED, branch, "ExecutionSucceeded",
                         {"output": Payload(output, text), "outputDetails": {"truncated": False}}, output=text)
        except StatesError as exc:
            # a Fail state without Error/Cause: AWS leaves the field out (not an empty string)
            error, cause = exc.error or None, exc.cause or None
            self._finish(FAILED, branch, "ExecutionFailed",
                         {k: v for k, v in (("error", error), ("cause", cause)) if v is not None},
                         error=error, cause=cause)
        except ExecutionCancelled:
            pass  # status, stop date and the closing event were set by stop() / the timeout
        except Exception:  # an engine bug must not leave the execution RUNNING, nor show Python in its cause
            LOG.exception("execution %s: internal error", self.arn)
            cause = internal_error_cause(branch.state_name, branch.entered_event)
            self._finish(FAILED, branch, "ExecutionFailed", {"error": failures.RUNTIME, "cause": cause},
                         error=failures.RUNTIME, cause=cause)
        finally:
            self.history.freeze()
            self.done.set()

    def _finish(self, status: str, branch: "Branch | None", event: str, details: dict, output: str | None = None,
                error: str | None = None, cause: str | None = None) -> bool:
        with self._lock:
            if self.status != RUNNING:
                return False
            previous = branch.prev if branch is not None else self.history.last_id()
            self.history.add(event, previous, details)
            self.status = status
            self.output = output
            self.error = error
            self.cause = cause
            self.stop_date = self.env.clock.now()
            timer, self._timeout_timer = self._timeout_timer, None
        if timer is not None:
            timer.cancel()
        self.cancel.set()
        self.env.finished(self)
        return True

    def stop(self, error: str | None = None, cause: str | None = None) -> bool:
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        return self._finish(ABORTED, None, "ExecutionAborted", details, error=error, cause=cause)

    def _timed_out(self) -> None:
        self._finish(TIMED_OUT, None, "ExecutionTimedOut",
                     {"error": failures.TIMEOUT, "cause": "The execution timed out."}, error=failures.TIMEOUT,
                     cause="The execution timed out.")

    def describe(self) -> dict:
        """DescribeExecution's fields (dates in epoch seconds), without ``redriveCount``."""
        out = {
            "executionArn": self.arn, "stateMachineArn": self.state_machine_arn, "name": self.name,
            "status": self.status, "startDate": epoch_seconds(self.start_date), "input": self.input,
            "inputDetails": {"included": True},
        }
        if self.stop_date is not None:
            out["stopDate"] = epoch_seconds(self.stop_date)
        if self.output is not None:
            out["output"] = self.output
            out["outputDetails"] = {"included": True}
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        return out


class Branch:
    """One thread of control: the current state, its context object, the last history event id."""

    __slots__ = ("execution", "env", "clock", "cancel", "prev", "state_name", "entered_time", "retry_count",
                 "task_token", "map_item", "history", "variables", "assigned", "entered_event", "failed_event")

    def __init__(self, execution: Execution, cancel: CancelScope, prev: int, map_item: dict | None = None) -> None:
        self.execution = execution
        self.env = execution.env
        self.clock = execution.env.clock
        self.history = execution.history
        self.cancel = cancel
        self.prev = prev
        self.state_name = ""
        self.entered_time: datetime | None = None
        self.retry_count = 0
        self.task_token: str | None = None
        self.map_item = map_item
        self.variables = Scope()  # workflow variables (variables.py); a child branch gets a read-only copy
        self.assigned: dict | None = None  # what the running state assigns, committed when it exits
        self.entered_event = 0  # id of the running state's StateEntered event
        # MapStateFailed / ParallelStateFailed owed by the running state: AWS records it once Retry has given up
        # (states.py records it before Catch), never between attempts
        self.failed_event: str | None = None

    def record(self, event_type: str, details: dict | None = None) -> int:
        self.prev = self.history.add(event_type, self.prev, details)
        return self.prev

    def context(self) -> dict:
        """The context object ``$$`` (built on demand)."""
        execution = self.execution
        state = {"EnteredTime": iso(self.entered_time or execution.start_date), "Name": self.state_name}
        if self.retry_count is not None:  # Task, Parallel and Map states only (AWS: no RetryCount elsewhere)
            state["RetryCount"] = self.retry_count
        ctx = {"Execution": execution._context_execution, "State": state, "StateMachine": execution._context_machine}
        if self.task_token is not None:
            ctx["Task"] = {"Token": self.task_token}
        if self.map_item is not None:
            ctx["Map"] = {"Item": self.map_item}
        return ctx

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and not wait(self.clock, seconds, [self.cancel], SLEEP):
            raise ExecutionCancelled()
        if self.cancel.is_set():
            raise ExecutionCancelled()

    # -- the state loop -------------------------------------------------------------------------------------

    def run_program(self, program: Program, data: Any) -> Any:
        token = VARIABLES.set(self.variables)  # $name paths read this branch's variables
        try:
            return self._run_states(program, data)
        finally:
            VARIABLES.reset(token)

    def _run_states(self, program: Program, data: Any) -> Any:
        states = program.states
        name = program.start_at
        data_text: str | None = None
        history = self.history
        clock = self.clock
        while True:
            if self.cancel.is_set():
                raise ExecutionCancelled()
            state = states[name]
            state_type = state.type
            self.state_name = name
            self.entered_time = entered = clock.now()
            self.retry_count = 0 if state_type in _RETRYING_TYPES else None
            self.prev = history.add(f"{state_type}StateEntered", self.prev, {
                "name": name, "input": Payload(data, data_text), "inputDetails": {"truncated": False}}, entered)
            entered_id = self.entered_event = self.prev
            self.assigned = None
            try:
                output, next_name = state.run(self, data)
            except StatesError as exc:
                if exc.error == failures.RUNTIME and not exc.cause.startswith(RUNTIME_CAUSE_PREFIX):
                    # AWS names the failing state and its StateEntered event in a States.Runtime cause
                    exc.cause = (f"{RUNTIME_CAUSE_PREFIX} '{name}' (entered at the event id #{entered_id}). "
                                 f"{exc.cause}")
                raise
            except ExecutionCancelled:
                raise
            except Exception:  # an engine bug: a States.Runtime failure of this state, the traceback in the log
                LOG.exception("execution %s, state %s: internal error", self.execution.arn, name)
                raise StatesError(failures.RUNTIME, internal_error_cause(name, entered_id)) from None
            if self.cancel.is_set():
                raise ExecutionCancelled()
            if output is not data or data_text is None:  # values are immutable: same object, same text
                data_text = dumps(output)
            if over_limit(data_text):
                raise StatesError(failures.DATA_LIMIT_EXCEEDED,
                                  f"The state/task '{name}' returned a result with a size exceeding the maximum "
                                  f"number of bytes service limit.")
            exited = {"name": name, "output": Payload(output, data_text), "outputDetails": {"truncated": False}}
            if self.assigned:
                exited["assignedVariables"] = self.variables.commit(self.assigned)
                exited["assignedVariablesDetails"] = {"truncated": False}
            self.prev = history.add(f"{state_type}StateExited", self.prev, exited)
            if next_name is None:
                return output
            name = next_name
            data = output

    # -- Task -----------------------------------------------------------------------------------------------

    def run_task(self, task: Task, effective: Any, timeout: float | None, heartbeat: float | None) -> Any:
        component = task.component
        if component.callback:
            self.task_token = self.env.callbacks.new_token(self)
        try:
            params = Payload(task.parameters_of(self, effective))
            self.check_task_input(params)
        except BaseException:
            self._drop_token()
            raise
        component.scheduled(self, params, timeout, heartbeat)
        try:
            mocks = self.env.mocks
            if mocks is not None and mocks.covers(self.state_name):
                result = Payload(mocks.respond(self.state_name))  # mocks.py: a mocked result, or the mocked error
            else:
                result = component.run(self, params, timeout, heartbeat)
        except StatesError as exc:
            self._drop_token()
            if self.cancel.is_set():
                raise ExecutionCancelled() from None
            component.failed(self, exc.error, exc.cause)
            raise
        self._drop_token()
        if self.cancel.is_set():
            raise ExecutionCancelled()
        if result.over_limit():
            # AWS: a task result over 256 KiB fails the task (TaskFailed / LambdaFunctionFailed) even when
            # ResultSelector/ResultPath would drop it, naming the function ARN or the service ('lambda'); Retry and
            # Catch handle it like any task failure (States.ALL included)
            cause = component.too_large_cause()
            component.failed(self, failures.DATA_LIMIT_EXCEEDED, cause)
            raise StatesError(failures.DATA_LIMIT_EXCEEDED, cause, terminal=False)
        component.succeeded(self, result)
        return result.value

    def check_task_input(self, params: Payload) -> None:
        """A Task's parameters over 256 KiB fail the state (States.DataLimitExceeded)."""
        if params.over_limit():
            raise StatesError(failures.DATA_LIMIT_EXCEEDED, f"The state/task '{self.state_name}' input exceeds the "
                                                            f"maximum number of bytes service limit.")

    def _drop_token(self) -> None:
        if self.task_token is not None:
            self.env.callbacks.discard(self.task_token, self)
            self.task_token = None

    def wait_for_token(self, timeout: float | None, heartbeat: float | None) -> Any:
        """The answer to this branch's task token (SendTaskSuccess's output; SendTaskFailure raises), within the
        task's TimeoutSeconds and HeartbeatSeconds."""
        return self.env.callbacks.wait(self.task_token, self, timeout, heartbeat)

    def call(self, fn: Callable[[Any], Any], timeout: float | None) -> Any:
        """``fn(on_start)``, a task call, on the task pool while this branch waits (parked); States.Timeout
        if it outlives ``timeout`` clock seconds.

        The timeout counts from ``on_start()``, which the call makes when its work really starts (a Lambda worker
        took the invocation): time spent queued for the pool or for a free Lambda worker is not task time, as on
        AWS, where Lambda scales out instead of queueing (docs/local-runtime.md, "Under load"). Called from a
        plain thread without a timeout (TestState), ``fn`` runs in that thread."""
        if timeout is None and current_task() is None:
            return fn(None)
        done = self.cancel.child()  # set when the call ends, or the execution is cancelled
        expired = Flag()
        call = _CallStart(self.env, timeout, expired)
        try:
            future = self.env.pool.submit(fn, call.start)
            future.add_done_callback(lambda _f: (call.decide("done"), done.set()))
            while not (done.is_set() or expired.is_set()):
                wait(self.clock, None, [done, expired])
            # what happened first decides, however late this branch runs again: an answer after the timeout is
            # a timeout, as on AWS
            if call.first == "done":
                return future.result()
            future.cancel()  # still queued: it never runs
            if self.cancel.is_set():
                raise ExecutionCancelled()
            raise StatesError(failures.TIMEOUT, "")
        finally:
            call.close()
            self.cancel.release(done)

    # -- Parallel and Map -----------------------------------------------------------------------------------

    def _run_children(self, jobs: list, concurrency: int, on_start, on_success, on_failure) -> tuple[list, list]:
        """Run ``jobs`` (callables taking a child Branch) with at most ``concurrency`` workers (scheduler tasks).

        Returns (results, failures) where failures is a list of (index, StatesError) in completion order. The
        first failure cancels the siblings unless ``on_failure`` returns True (the failure is tolerated)."""
        scope = self.cancel.child()
        results: list = [None] * len(jobs)
        errors: list = []
        lock = threading.Lock()
        next_index = [0]

        def worker() -> None:
            while True:
                with lock:
                    index = next_index[0]
                    if index >= len(jobs) or scope.is_set():
                        return
                    next_index[0] += 1
                child = Branch(self.execution, scope, 0)
                child.variables = self.variables.child()
                try:
                    child.prev = on_start(index, child)
                    results[index] = jobs[index](child)
                    on_success(index, child)
                except StatesError as exc:
                    with lock:
                        errors.append((index, exc))
                    if not on_failure(index, child, exc):
                        scope.set()
                except ExecutionCancelled:
                    return

        try:
            workers = min(concurrency or len(jobs), len(jobs))
            # this branch would only wait: it runs one of the workers itself (one child fewer to start)
            children = [spawn(worker, f"sfn-{self.state_name}-{i}") for i in range(1, workers)]
            try:
                worker()
            finally:
                join(children, self.clock)
        finally:
            self.cancel.release(scope)
        if self.cancel.is_set():
            raise ExecutionCancelled()
        return results, errors

    def run_parallel(self, state: Parallel, params: Any) -> list:
        started = self.record("ParallelStateStarted")
        jobs = [(lambda program: (lambda child: child.run_program(program, params)))(p) for p in state.branches]
        results, errors = self._run_children(
            jobs, 1 if state.inline else len(jobs),
            on_start=lambda index, child: started,
            on_success=lambda index, child: None,
            on_failure=lambda index, child, exc: False,
        )
        if errors:
            self.prev = self.history.last_id()
            self.failed_event = "ParallelStateFailed"
            _, exc = errors[0]
            raise StatesError(exc.error, exc.cause, exc.terminal)
        self.prev = self.history.last_id()
        # AWS: ParallelStateExited has the same previousEventId as ParallelStateSucceeded (the branches' last event)
        self.history.add("ParallelStateSucceeded", self.prev)
        return results

    def run_map(self, state: Map, effective: Any, items: list, concurrency: int) -> list:
        started = self.record("MapStateStarted", {"length": len(items)})
        name = state.name
        selector = state.item_selector
        processor = state.processor
        parent_context = self
        tolerant = state.tolerates_failures

        def job_for(index: int):
            def job(child: Branch) -> Any:
                item = items[index]
                if selector is not None:
                    child.map_item = {"Index": index, "Value": item}
                    child.state_name = parent_context.state_name
                    child.entered_time = parent_context.entered_time
                    child.entered_event = parent_context.entered_event
                    token = VARIABLES.set(child.variables)  # this may be a worker thread
                    try:
                        item = selector.resolve(effective, child.context)
                    finally:
                        VARIABLES.reset(token)
                    child.map_item = None
                return child.run_program(processor, item)
            return job

        # AWS runs the iterations on MaxConcurrency workers (one per item when 0): a worker's first iteration follows
        # MapStateStarted, its next one follows the last state event of its previous iteration
        workers = concurrency if concurrency and concurrency > 0 else len(items)
        last_events: dict[int, int] = {}

        def on_start(index: int, child: Branch) -> int:
            previous = last_events.get(index - workers, started) if index >= workers else started
            return self.history.add("MapIterationStarted", previous, {"name": name, "index": index})

        succeeded: list[int] = []

        # what the Map's next event follows: the highest MapIterationSucceeded, or a failed iteration's last state
        # event (AWS records MapIterationFailed without making it the source of MapStateFailed)
        sources: list[int] = []

        def on_success(index: int, child: Branch) -> None:
            last_events[index] = child.prev
            sources.append(child.record("MapIterationSucceeded", {"name": name, "index": index}))
            succeeded.append(index)

        failed: list[int] = []

        def on_failure(index: int, child: Branch, exc: StatesError) -> bool:
            sources.append(child.prev)
            self.history.add("MapIterationFailed", child.prev, {"name": name, "index": index})
            failed.append(index)
            return tolerant and state.tolerated(len(failed), len(items))

        jobs = [job_for(i) for i in range(len(items))]
        cap = concurrency if concurrency and concurrency > 0 else MAP_CONCURRENCY_CAP
        if state.inline:
            cap = 1  # iterations that never wait run back to back in this thread (states.never_waits)
        results, errors = self._run_children(jobs, cap, on_start, on_success, on_failure)
        finished = getattr(state, "map_run_finished", None)
        if finished is not None:  # a distributed Map run (distributed_map.py) exports every iteration's outcome
            finished(results, list(errors), list(succeeded))
        self.prev = max(sources, default=started)
        if errors:
            if not tolerant:
                self.failed_event = "MapStateFailed"
                _, exc = errors[0]
                raise StatesError(exc.error, exc.cause, exc.terminal)
            if not state.tolerated(len(errors), len(items)):
                self.failed_event = "MapStateFailed"
                raise StatesError(failures.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                  "The specified tolerated failure threshold was exceeded")
            for index, exc in errors:
                results[index] = {"Error": exc.error, "Cause": exc.cause}
        # AWS: MapStateExited has the same previousEventId as MapStateSucceeded
        self.history.add("MapStateSucceeded", self.prev)
        return results


class _CallStart:
    """The start of one task call: while it waits (for the task pool, for a Lambda worker) the pool counts it as
    queued; ``start`` (the call's ``on_start``, on whichever thread makes it) ends the wait and starts the timeout
    timer at once."""

    __slots__ = ("env", "seconds", "expired", "timer", "started", "closed", "first", "lock")

    def __init__(self, env: Environment, seconds: float | None, expired: Flag) -> None:
        self.env, self.seconds, self.expired = env, seconds, expired
        self.timer = None
        self.started = self.closed = False
        self.first: str | None = None  # "done" (the call ended) or "timeout", whichever came first
        self.lock = threading.Lock()
        env.pool.count_queued(+1)

    def decide(self, what: str) -> None:
        with self.lock:
            if self.first is None:
                self.first = what

    def _expire(self) -> None:
        self.decide("timeout")
        self.expired.set()

    def start(self) -> None:
        with self.lock:
            if self.closed or self.started:
                return
            self.started = True
            if self.seconds is not None:
                self.timer = self.env.clock.call_later(self.seconds, self._expire, WORK)
        self.env.pool.count_queued(-1)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            timer, self.timer = self.timer, None
            was_queued, self.started = not self.started, True
        if timer is not None:
            timer.cancel()
        if was_queued:
            self.env.pool.count_queued(-1)
