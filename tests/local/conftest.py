"""Fixtures of the local end-to-end tests: local runtimes started as users start them, one per parameter set."""
import pytest

from tests.support.local_stack import LocalStack

_started: dict = {}


@pytest.fixture(scope="session")
def local_stack_factory():
    """``factory(overrides, time_scale, extra_env)`` -> a running LocalStack, shared by the tests that ask for the
    same one."""

    def factory(overrides: dict | None = None, time_scale: float = 0.01,
                extra_env: dict | None = None) -> LocalStack:
        key = (tuple(sorted((overrides or {}).items())), time_scale, tuple(sorted((extra_env or {}).items())))
        if key not in _started:
            _started[key] = LocalStack(overrides, time_scale, extra_env)
        return _started[key]

    yield factory
    stacks = list(_started.values())
    for stack in stacks:  # Ctrl-C to every stack first: they stop side by side
        stack.interrupt()
    for stack in stacks:
        stack.cleanup()
    _started.clear()
