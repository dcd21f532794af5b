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
    from local_runtime.awslambda.functions import _reserved_concurrency

    assert _reserved_concurrency("Fn", props) == expected


def test_negative_reserved_concurrency_is_named():
    from local_runtime.awslambda.functions import _reserved_concurrency

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


def test_watch_and_log_format_are_read_from_the_environment():
    default = Settings.from_env({})
    assert (default.watch, default.log_format) == (True, "text")
    chosen = Settings.from_env({"WATCH": "0", "LOG_FORMAT": "json"})
    assert (chosen.watch, chosen.log_format) == (False, "json")


@pytest.mark.parametrize("env, message", [
    ({"WATCH": "sometimes"}, "WATCH must be 1 or 0, not 'sometimes'"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of text, json, not 'xml'"),
])
def test_bad_switches_are_named(env, message):
    with pytest.raises(TemplateError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message


def test_help_and_the_readme_list_every_setting():
    """One list (config.SETTINGS) feeds --help; the README's settings table names the same variables."""
    import re
    import subprocess
    import sys

    from local_runtime.config import REPO_ROOT, SETTINGS

    names = {name for name, _, _ in SETTINGS}
    assert {"PARAMETER_OVERRIDES", "TIME_SCALE", "SAMPLE_DATA", "API_PORT", "ENDPOINT_PORT", "LAMBDA_CONCURRENCY",
            "WATCH", "LOG_FORMAT"} <= names
    helped = subprocess.run([sys.executable, "-m", "local_runtime", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60).stdout
    assert {line.split()[0] for line in helped.split("environment settings")[1].splitlines()[1:] if line.strip()} == names
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme.split("### Settings of `make run`")[1].split("\n\n")[1]
    assert set(re.findall(r"`([A-Z_]+)`", "".join(line.split("|")[1] for line in table.splitlines()[2:]))) == names


def test_execution_bounds_default_and_are_read_from_the_environment():
    defaults = Settings.from_env({})
    assert (defaults.max_finished_executions, defaults.max_queued_tasks) == (1000, 500)
    settings = Settings.from_env({"MAX_FINISHED_EXECUTIONS": "50", "MAX_QUEUED_TASKS": "0"})
    assert (settings.max_finished_executions, settings.max_queued_tasks) == (50, 0)


@pytest.mark.parametrize("name, text, message", [
    ("MAX_FINISHED_EXECUTIONS", "lots", "MAX_FINISHED_EXECUTIONS must be a whole number, not 'lots'"),
    ("MAX_QUEUED_TASKS", "-1", "MAX_QUEUED_TASKS must not be negative, not -1"),
])
def test_bad_execution_bounds_are_named(name, text, message):
    with pytest.raises(TemplateError) as raised:
        Settings.from_env({name: text})
    assert str(raised.value) == message
