"""The tests' polling helper: returns what it waited for, fails with what it last saw."""
import pytest

from tests.support.polling import wait_until


def test_returns_the_first_truthy_value():
    values = iter([None, [], {"status": "DONE"}])

    assert wait_until(lambda: next(values), 1.0, "never", interval=0) == {"status": "DONE"}


def test_returns_the_first_value_accepted():
    values = iter([{"status": "RUNNING"}, {"status": "RUNNING"}, {"status": "SUCCEEDED"}])

    assert wait_until(lambda: next(values), 1.0, "never", interval=0,
                      accept=lambda d: d["status"] != "RUNNING") == {"status": "SUCCEEDED"}


def test_fails_with_the_message_built_when_time_is_up():
    looks = iter(range(1, 1000))

    with pytest.raises(AssertionError, match=r"^still RUNNING after \d+ looks$") as raised:
        wait_until(lambda: {"status": "RUNNING", "look": next(looks)}, 0.05,
                   lambda last: f"still RUNNING after {last['look']} looks", interval=0.02,
                   accept=lambda d: d["status"] != "RUNNING")

    assert str(raised.value) == f"still RUNNING after {next(looks) - 1} looks"  # the last value seen, not an old one
