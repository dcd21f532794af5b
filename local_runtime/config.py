"""Settings of the local runtime, from the environment (the variables ``make run`` documents) and the command line."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from local_runtime.logs import parse_log_format
from local_runtime.template import TemplateError, parse_overrides

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MAX_FINISHED_EXECUTIONS = 1000
DEFAULT_MAX_QUEUED_TASKS = 500

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Credentials moto accepts; nothing here reaches AWS.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass
class Settings:
    template: Path = REPO_ROOT / "template.yaml"
    sample_data: Path | None = REPO_ROOT / "data" / "sample_data.json"
    stack_name: str = "dofs"
    host: str = "127.0.0.1"
    api_port: int = 3000
    endpoint_port: int = 4566
    overrides: dict[str, str] = field(default_factory=dict)
    time_scale: float = 1.0
    api_keys: dict[str, str] = field(default_factory=dict)
    # warm workers per function at most (LAMBDA_CONCURRENCY); a function's ReservedConcurrentExecutions lowers it
    lambda_concurrency: int = field(default_factory=lambda: default_lambda_concurrency())
    watch: bool = True  # WATCH: hot reload of functions/, layers/, statemachine/ and template.yaml
    log_format: str = "text"  # LOG_FORMAT: text (one readable line per record) or json (the CloudWatch events)
    # injected faults of chaos runs (local_runtime/awslambda/faults.py): FAULTS and FAULTS_SEED; off when empty
    faults: str = ""
    faults_seed: int | None = None
    # finished Step Functions executions kept in memory (MAX_FINISHED_EXECUTIONS; the oldest are forgotten first)
    max_finished_executions: int = DEFAULT_MAX_FINISHED_EXECUTIONS
    # task calls waiting for the task pool or a Lambda worker at which the API answers 429 to new work
    # (MAX_QUEUED_TASKS; 0: never)
    max_queued_tasks: int = DEFAULT_MAX_QUEUED_TASKS
    # hosts besides loopback that SNS http/https subscriptions may deliver to (SNS_HTTP_ALLOWED_HOSTS; "*": any)
    sns_http_allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        settings = cls()
        if env.get("TEMPLATE"):
            settings.template = Path(env["TEMPLATE"]).resolve()
        if env.get("SAMPLE_DATA") is not None:
            settings.sample_data = Path(env["SAMPLE_DATA"]).resolve() if env["SAMPLE_DATA"] else None
        settings.stack_name = env.get("STACK_NAME", settings.stack_name)
        settings.api_port = int(env.get("API_PORT", settings.api_port))
        settings.endpoint_port = int(env.get("ENDPOINT_PORT", settings.endpoint_port))
        settings.overrides = parse_overrides(env.get("PARAMETER_OVERRIDES"))
        settings.time_scale = parse_time_scale(env.get("TIME_SCALE"))
        if env.get("LAMBDA_CONCURRENCY"):
            settings.lambda_concurrency = parse_lambda_concurrency(env["LAMBDA_CONCURRENCY"])
        if env.get("FAULTS"):
            settings.faults = parse_faults(env["FAULTS"])
        if env.get("FAULTS_SEED"):
            try:
                settings.faults_seed = int(env["FAULTS_SEED"])
            except ValueError:
                raise TemplateError(f"FAULTS_SEED must be a whole number, not {env['FAULTS_SEED']!r}") from None
        if env.get("MAX_FINISHED_EXECUTIONS"):
            settings.max_finished_executions = parse_count("MAX_FINISHED_EXECUTIONS", env["MAX_FINISHED_EXECUTIONS"])
        if env.get("MAX_QUEUED_TASKS"):
            settings.max_queued_tasks = parse_count("MAX_QUEUED_TASKS", env["MAX_QUEUED_TASKS"])
        if env.get("SNS_HTTP_ALLOWED_HOSTS"):
            settings.sns_http_allowed_hosts = frozenset(
                h.strip().lower() for h in env["SNS_HTTP_ALLOWED_HOSTS"].split(",") if h.strip())
        if env.get("API_KEYS"):
            settings.api_keys = {f"key{i}": k for i, k in enumerate(env["API_KEYS"].split(","), 1) if k}
        settings.watch = parse_switch("WATCH", env.get("WATCH"), default=True)
        try:
            settings.log_format = parse_log_format(env.get("LOG_FORMAT"))
        except ValueError as exc:
            raise TemplateError(str(exc)) from None
        return settings


# Every environment setting of ``make run`` / ``python -m local_runtime``: (name, default, meaning). ``--help`` prints
# them; the README's settings table lists the same names (tests/unit/runtime/test_config.py).
SETTINGS = (
    ("PARAMETER_OVERRIDES", "", "template parameters, as sam deploy takes them: \"FulfillmentSuccessRate=1 "
                                "MaxReceiveCount=2\""),
    ("TIME_SCALE", "1", "scales Wait states, retries, execution and callback timeouts, SQS visibility "
                        "(0.01: a hundred times faster); Lambda timeouts stay real"),
    ("SAMPLE_DATA", "data/sample_data.json", "items loaded into the tables at start (empty: none)"),
    ("TEMPLATE", "template.yaml", "the SAM template to run"),
    ("STACK_NAME", "dofs", "prefix of the local physical names (dofs-OrdersTable)"),
    ("API_PORT", "3000", "port of the API Gateway emulator on 127.0.0.1"),
    ("ENDPOINT_PORT", "4566", "port of the AWS-compatible endpoint on 127.0.0.1"),
    ("LAMBDA_CONCURRENCY", "cores, at least 2", "most warm workers of one function at once"),
    ("LAMBDA_FORKSERVER", "1", "0: start every worker as a fresh python -m awslambdaric"),
    ("API_KEYS", "", "extra x-api-key values accepted on every key-protected method (comma separated)"),
    ("SFN_MOCK_CONFIG", "", "Step Functions Local mock config file (executions started as <ARN>#<test case>)"),
    ("WATCH", "1", "0: no hot reload of functions/, layers/, statemachine/*.asl.json and template.yaml"),
    ("LOG_FORMAT", "text", "json: print each log event as CloudWatch stores it, not one readable line"),
    ("NO_COLOR", "", "set: no colours (there are none either when stderr is not a terminal)"),
    ("FAULTS", "", "injected faults for chaos runs: error|timeout|duplicate:<rate>[:<Function>+...],... (off)"),
    ("FAULTS_SEED", "", "seed of the FAULTS draws"),
    ("MAX_QUEUED_TASKS", "500", "task calls waiting for a worker or the task pool at which the API answers 429 "
                                "(0: never)"),
    ("MAX_FINISHED_EXECUTIONS", "1000", "finished Step Functions executions kept in memory (oldest forgotten first)"),
    ("SNS_HTTP_ALLOWED_HOSTS", "", "hosts besides loopback that SNS http/https subscriptions may deliver to (*: any)"),
)


def parse_switch(name: str, text: str | None, default: bool) -> bool:
    """An on/off setting: 1/true/yes/on or 0/false/no/off."""
    if text is None or text.strip() == "":
        return default
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise TemplateError(f"{name} must be 1 or 0, not {text!r}")


def parse_time_scale(text: str | None) -> float:
    """``TIME_SCALE``: a positive float (1 = AWS's timing, 0.01 = a hundred times faster)."""
    if text is None or text.strip() == "":
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise TemplateError(f"TIME_SCALE must be a number, not {text!r}") from None
    if value <= 0:
        raise TemplateError(f"TIME_SCALE must be greater than 0, not {value}")
    return value


def parse_faults(text: str) -> str:
    """``FAULTS``: checked against the grammar of local_runtime/awslambda/faults.py; returned as given."""
    from local_runtime.awslambda.faults import FaultsError, parse

    try:
        parse(text)
    except FaultsError as exc:
        raise TemplateError(str(exc)) from None
    return text


def default_lambda_concurrency() -> int:
    """One worker per core, at least two: past the cores, another worker only adds a cold start (~0.8 s of CPU
    importing boto3 and Powertools) while the others wait for the same CPUs."""
    return max(2, os.cpu_count() or 2)


def parse_lambda_concurrency(text: str) -> int:
    """``LAMBDA_CONCURRENCY``: a positive integer, the most workers one function runs at once."""
    try:
        value = int(text)
    except ValueError:
        raise TemplateError(f"LAMBDA_CONCURRENCY must be a whole number, not {text!r}") from None
    if value < 1:
        raise TemplateError(f"LAMBDA_CONCURRENCY must be at least 1, not {value}")
    return value


def parse_count(name: str, text: str) -> int:
    """A whole number >= 0 (``MAX_FINISHED_EXECUTIONS``, ``MAX_QUEUED_TASKS``)."""
    try:
        value = int(text)
    except ValueError:
        raise TemplateError(f"{name} must be a whole number, not {text!r}") from None
    if value < 0:
        raise TemplateError(f"{name} must not be negative, not {value}")
    return value
