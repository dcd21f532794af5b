"""Fixtures of the local end-to-end tests: local runtimes started as users start them, one per parameter set.

Every stack reads the tests' Step Functions Local mock config (``SFN_MOCK_CONFIG``): only an execution started as
``<state machine ARN>#<test case>`` uses it, so the other tests see a stack exactly as ``make run`` starts it, and the
test files that inject failures share a stack with those that do not."""
from pathlib import Path

import pytest

from tests.support.local_stack import LocalStack

_started: dict = {}
MOCK_CONFIG = Path(__file__).parent / "mock_configs" / "unexpected_errors.json"


@pytest.fixture(scope="session")
def local_stack_factory():
    """``factory(overrides, time_scale)`` -> a running LocalStack, shared by the tests that ask for the same one."""

    def factory(overrides: dict | None = None, time_scale: float = 0.01) -> LocalStack:
        key = (tuple(sorted((overrides or {}).items())), time_scale)
        if key not in _started:
            _started[key] = LocalStack(overrides, time_scale, {"SFN_MOCK_CONFIG": str(MOCK_CONFIG)})
        return _started[key]

    yield factory
    stacks = list(_started.values())
    for stack in stacks:  # Ctrl-C to every stack first: they stop side by side
        stack.interrupt()
    for stack in stacks:
        stack.cleanup()
    _started.clear()
