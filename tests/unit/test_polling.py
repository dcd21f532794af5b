"""The tests' polling helper: returns what it waited for, fails with what it last saw."""
import pytest

from tests.support.polling import wait_until


def test_returns_the_first_truthy_value():
    values = iter([None, [], {"status": "DONE"}])

    assert wait_until(lambda: next(values), 1.0, "never", interval=0) == {"status": "DONE"}


def test_fails_with_the_message_built_when_time_is_up():
    seen = []

    with pytest.raises(AssertionError, match=r"^still RUNNING after \d+ looks$") as raised:
        wait_until(lambda: seen.append("RUNNING"), 0.05, lambda: f"still RUNNING after {len(seen)} looks",
                   interval=0.02)

    assert str(raised.value) == f"still RUNNING after {len(seen)} looks" and len(seen) >= 2
