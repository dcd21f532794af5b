"""The engine: compiles definitions, starts executions, stops and waits for them, forgets old finished ones.

    engine = Engine(clock=RealClock(), integrations=Integrations(lambda_invoke=..., aws_client=...))
    execution = engine.start(program, arn=..., name=..., state_machine_arn=..., state_machine_name=...,
                             input_text='{"a": 1}')
    engine.wait(execution.arn, timeout=10)

Executions run as tasks of one scheduler thread (scheduler.py): a waiting execution (a Wait, a task call, a task
token, a child execution) holds no thread; task calls run on a bounded pool (``max_task_workers`` threads).
Finished executions are kept up to ``max_finished`` (the oldest finished one is forgotten first; DescribeExecution
then answers ExecutionDoesNotExist); running executions are always kept.

The service layer (service.py) owns state machines and the API; the engine owns running executions. An execution
sees only its Environment (environment.py): the engine's clock, task pool, callbacks, integrations, the mocks of its
test case and the engine's ``_finished`` hook.
"""
from __future__ import annotations

import json
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .callbacks import Callbacks
from .clock import Clock, RealClock
from .environment import Environment, TaskPool
from .execution import RUNNING, Execution
from .integrations import Integrations
from .mocks import ENV_VAR, MockConfig, MockConfigError, MockedCase, load_mock_config
from .parser import parse_definition
from .scheduler import Scheduler
from .states import Program

DEFAULT_MAX_FINISHED = 1000  # finished executions kept (MAX_FINISHED_EXECUTIONS in the local runtime)


class Engine:
    def __init__(self, clock: Clock | None = None, integrations: Integrations | None = None,
                 max_task_workers: int = 64, mock_config: Any = None,
                 max_finished: int | None = DEFAULT_MAX_FINISHED) -> None:
        self.clock = clock or RealClock()
        self.integrations = integrations or Integrations()
        # Step Functions Local mock config (mocks.py): a path, a dict or a MockConfig; None reads $SFN_MOCK_CONFIG
        self.mock_config: MockConfig | None = load_mock_config(mock_config)
        self.callbacks = Callbacks()
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        self._tasks = TaskPool(max_task_workers)
        self.scheduler = Scheduler()
        self.max_finished = max_finished  # None: keep every finished execution
        self._finished_arns: deque[str] = deque()  # oldest first
        self._running = 0
        self._environment = Environment(self.clock, self.integrations, self.callbacks, self._tasks, self._finished)
        self.created: list[Callable[[Execution], None]] = []  # called when an execution is created (before it runs)
        self.listeners: list[Callable[[Execution], None]] = []  # called when an execution ends
        self.evicted: list[Callable[[str], None]] = []  # called with the ARN of each finished execution forgotten

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Worker threads for task calls (created on first use)."""
        return self._tasks.executor

    def environment(self, mocks: Any = None) -> Environment:
        """What an execution of this engine may use (``mocks``: those of its test case)."""
        return self._environment.with_mocks(mocks)

    @staticmethod
    def compile(definition: str | dict) -> Program:
        """Parse and validate (cached); raises errors.InvalidDefinition."""
        return parse_definition(definition)

    def create(self, program: Program, *, arn: str, name: str, state_machine_arn: str, state_machine_name: str,
               input_text: str = "{}", input_value: Any = None, role_arn: str = "",
               machine_type: str = "STANDARD", test_case: str | None = None) -> Execution:
        """``test_case``: run with the mocks of that test case of the mock config (raises MockConfigError)."""
        mocks = self.mocked_case(state_machine_name, test_case) if test_case else None
        if input_value is None:
            input_value = json.loads(input_text)
        execution = Execution(self.environment(mocks), program, arn, name, state_machine_arn, state_machine_name,
                              input_text, input_value, role_arn, machine_type)
        with self._lock:
            self.executions[arn] = execution
            self._running += 1
        for listener in list(self.created):
            try:
                listener(execution)
            except Exception:  # pragma: no cover - a listener must not break the engine
                pass
        return execution

    def mocked_case(self, state_machine_name: str, test_case: str) -> MockedCase:
        if self.mock_config is None:
            raise MockConfigError(f"Test case '{test_case}' needs a mock config (Engine(mock_config=...) or "
                                  f"${ENV_VAR})")
        return self.mock_config.case(state_machine_name, test_case)

    def start(self, program: Program, **kwargs: Any) -> Execution:
        """Create an execution and start it on the engine's scheduler."""
        execution = self.create(program, **kwargs)
        self.launch(execution)
        return execution

    def launch(self, execution: Execution) -> None:
        """Start a created execution on the engine's scheduler (returns at once)."""
        self.scheduler.spawn(execution.run, execution.name)

    def run_sync(self, program: Program, **kwargs: Any) -> Execution:
        """Create an execution and run it to the end in the calling thread."""
        execution = self.create(program, **kwargs)
        Scheduler().run(execution.run)
        return execution

    def get(self, arn: str) -> Execution | None:
        return self.executions.get(arn)

    def stop(self, arn: str, error: str | None = None, cause: str | None = None) -> Execution:
        execution = self.executions[arn]
        execution.stop(error, cause)
        return execution

    def wait(self, arn: str, timeout: float | None = None) -> Execution:
        """Block (real time) until the execution has ended; returns it either way."""
        execution = self.executions[arn]
        execution.done.wait(timeout)
        return execution

    def running(self) -> list[Execution]:
        return [e for e in list(self.executions.values()) if e.status == RUNNING]

    def running_count(self) -> int:
        """Executions created and not ended (without scanning them)."""
        return self._running

    def queued_calls(self) -> int:
        """Task calls of running executions that wait to start: queued for the task pool or for a free Lambda
        worker (what the local runtime's API throttles on: the backlog of work accepted but not yet started)."""
        return self._tasks.queued

    def shutdown(self) -> None:
        """Abort every running execution and stop the worker pool."""
        for execution in self.running():
            execution.stop("States.Aborted", "The local runtime is shutting down")
        self._tasks.shutdown()

    def _finished(self, execution: Execution) -> None:
        evicted = []
        with self._lock:
            self._running -= 1
            if self.executions.get(execution.arn) is execution:
                self._finished_arns.append(execution.arn)
            while self.max_finished is not None and len(self._finished_arns) > self.max_finished:
                arn = self._finished_arns.popleft()
                if self.executions.pop(arn, None) is not None:
                    evicted.append(arn)
        for listener in list(self.listeners):
            try:
                listener(execution)
            except Exception:  # a listener must not break the engine
                pass
        for arn in evicted:
            for forget in list(self.evicted):
                try:
                    forget(arn)
                except Exception:  # pragma: no cover - a listener must not break the engine
                    pass
