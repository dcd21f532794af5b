"""The engine: compiles definitions, starts executions in threads, stops and waits for them.

    engine = Engine(clock=RealClock(), integrations=Integrations(lambda_invoke=..., aws_client=...))
    execution = engine.start(program, arn=..., name=..., state_machine_arn=..., state_machine_name=...,
                             input_text='{"a": 1}')
    engine.wait(execution.arn, timeout=10)

The service layer (service.py) owns state machines and the API; the engine owns running executions.
"""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .callbacks import Callbacks
from .clock import Clock, RealClock
from .execution import RUNNING, Execution
from .integrations import Integrations
from .mocks import ENV_VAR, MockConfig, MockConfigError, MockedCase, load_mock_config
from .parser import parse_definition
from .states import Program


class Engine:
    def __init__(self, clock: Clock | None = None, integrations: Integrations | None = None,
                 max_task_workers: int = 64, mock_config: Any = None) -> None:
        self.clock = clock or RealClock()
        self.integrations = integrations or Integrations()
        # Step Functions Local mock config (mocks.py): a path, a dict or a MockConfig; None reads $SFN_MOCK_CONFIG
        self.mock_config: MockConfig | None = load_mock_config(mock_config)
        self.callbacks = Callbacks()
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._max_task_workers = max_task_workers
        self.listeners: list[Callable[[Execution], None]] = []  # called when an execution ends

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Worker threads for task calls that have a timeout (created on first use)."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._max_task_workers, thread_name_prefix="sfn-task")
        return self._pool

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
        execution = Execution(self, program, arn, name, state_machine_arn, state_machine_name, input_text,
                              input_value, role_arn, machine_type)
        execution.mocks = mocks
        with self._lock:
            self.executions[arn] = execution
        return execution

    def mocked_case(self, state_machine_name: str, test_case: str) -> MockedCase:
        if self.mock_config is None:
            raise MockConfigError(f"Test case '{test_case}' needs a mock config (Engine(mock_config=...) or "
                                  f"${ENV_VAR})")
        return self.mock_config.case(state_machine_name, test_case)

    def start(self, program: Program, **kwargs: Any) -> Execution:
        """Create an execution and run it in a new daemon thread."""
        execution = self.create(program, **kwargs)
        thread = threading.Thread(target=execution.run, daemon=True, name=f"sfn-exec-{execution.name}"[:60])
        thread.start()
        return execution

    def run_sync(self, program: Program, **kwargs: Any) -> Execution:
        """Create an execution and run it to the end in the calling thread."""
        execution = self.create(program, **kwargs)
        execution.run()
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

    def shutdown(self) -> None:
        """Abort every running execution and stop the worker pool."""
        for execution in self.running():
            execution.stop("States.Aborted", "The local runtime is shutting down")
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _finished(self, execution: Execution) -> None:
        for listener in list(self.listeners):
            try:
                listener(execution)
            except Exception:  # a listener must not break the engine
                pass
