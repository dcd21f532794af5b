"""Settings read from the environment ``make run`` documents."""
import os

import pytest

from local_runtime.config import Settings
from local_runtime.template import TemplateError


def test_lambda_concurrency_defaults_to_the_cores_and_never_below_two():
    assert Settings.from_env({}).lambda_concurrency == max(2, os.cpu_count() or 2)


def test_lambda_concurrency_is_read_from_the_environment():
    assert Settings.from_env({"LAMBDA_CONCURRENCY": "5"}).lambda_concurrency == 5


@pytest.mark.parametrize("text, message", [
    ("many", "LAMBDA_CONCURRENCY must be a whole number, not 'many'"),
    ("0", "LAMBDA_CONCURRENCY must be at least 1, not 0"),
])
def test_bad_lambda_concurrency_is_named(text, message):
    with pytest.raises(TemplateError) as raised:
        Settings.from_env({"LAMBDA_CONCURRENCY": text})
    assert str(raised.value) == message


@pytest.mark.parametrize("text, message", [
    ("fast", "TIME_SCALE must be a number, not 'fast'"),
    ("0", "TIME_SCALE must be greater than 0, not 0.0"),
])
def test_bad_time_scale_is_named(text, message):
    with pytest.raises(TemplateError) as raised:
        Settings.from_env({"TIME_SCALE": text})
    assert str(raised.value) == message


@pytest.mark.parametrize("props, expected", [({}, None), ({"ReservedConcurrentExecutions": 3}, 3),
                                             ({"ReservedConcurrentExecutions": "0"}, 0)])
def test_reserved_concurrency_is_read_from_the_function(props, expected):
    from local_runtime.runtime import _reserved_concurrency

    assert _reserved_concurrency("Fn", props) == expected


def test_negative_reserved_concurrency_is_named():
    from local_runtime.runtime import _reserved_concurrency

    with pytest.raises(TemplateError) as raised:
        _reserved_concurrency("Fn", {"ReservedConcurrentExecutions": -1})
    assert str(raised.value) == "Fn: ReservedConcurrentExecutions must not be negative, not -1"


@pytest.mark.parametrize("value, default, expected", [
    (None, True, True), (None, False, False), (True, False, True), (False, True, False),
    ("true", False, True), ("TRUE", False, True), ("false", True, False), ("False", True, False),
])
def test_cloudformation_booleans(value, default, expected):
    from local_runtime.cfn import cfn_bool

    assert cfn_bool(value, default) is expected
