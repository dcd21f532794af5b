"""Root test configuration: safe AWS/Powertools env defaults (set before any test imports boto3 or Powertools),
a real-shaped Lambda context, event loading, the parsed SAM template, and the local stacks the end-to-end and
integration tests share (started only when a test asks for one). No autouse fixtures."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from local_runtime.dynamodb import moto_patches as dynamodb_patches
from local_runtime.sqs import moto_patches as sqs_patches
from local_runtime.botocore_cache import share_loaders
from tests.support.local_stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
TEMPLATE_PATH = ROOT / "template.yaml"

for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "dofs",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_METRICS_NAMESPACE": "DOFS",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ.setdefault(_name, _value)


# moto's mock_aws drops boto3's default session at every start: without a shared loader every test re-reads the
# service models (about 40 ms of CPU per client)
share_loaders()
# DynamoDB and SQS make each request atomic; moto in one process with many threads does not unless told
# (local_runtime/dynamodb/moto_patches.py, local_runtime/sqs/moto_patches.py)
dynamodb_patches.atomic_requests()
sqs_patches.atomic_requests()

# The longest files first (measured with 2 xdist workers, --dist loadfile, which hands out whole files in collection
# order): when the longest came last, one worker ran it alone for 18 s after the other had finished.
LONGEST_FIRST = (
    "tests/local/test_e2e_failures.py",
    "tests/local/test_e2e.py",
    "tests/local/test_patterns_e2e.py",
    "tests/local/test_awslambda_workers.py",
    "tests/local/test_events.py",
    "tests/unit/test_benchmarks.py",
    "tests/local/differential/test_corpus.py",
    "tests/local/test_request_path.py",
    "tests/unit/functions/test_workflow_moto.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(LONGEST_FIRST)))  # stable: rest as is


@dataclass
class LambdaContext:
    """The attributes and method of the context object the Python runtime passes to a handler."""

    function_name: str = "dofs-test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dofs-test-function"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "8f5e4b1a-3c2d-4e6f-9a0b-1c2d3e4f5a6b"
    log_group_name: str = "/aws/lambda/dofs-test-function"
    log_stream_name: str = "2025/11/22/[$LATEST]0123456789abcdef0123456789abcdef"
    identity: object = None
    client_context: object = None
    remaining_time_in_millis: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_in_millis


class CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation short tags (!Ref, !Sub, !GetAtt...) as their long forms."""


def _construct_tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node):
    name = "Ref" if tag_suffix == "Ref" else ("Condition" if tag_suffix == "Condition" else f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict:
    """The SAM template as a dict, short tags turned into their long forms."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CloudFormationLoader)  # noqa: S506 - SafeLoader subclass


def read_event(name: str) -> dict:
    """events/<name> as a dict."""
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def load_event():
    """``load_event("post_order.json")`` returns a fresh copy of events/post_order.json."""
    return read_event


@pytest.fixture
def ended(monkeypatch):
    """The pools of the threads that call threads.count_ended; ``ended.wait(group)`` until one of that pool has
    (tests/unit/runtime/test_threads.py, tests/local/test_thread_cpu.py)."""
    from tests.support.thread_cpu import record_count_ended

    return record_count_ended(monkeypatch)


@pytest.fixture(scope="session")
def template() -> dict:
    return load_template()


# Local stacks, started as users start them (``python -m local_runtime serve``), one per parameter set and shared by
# every test file of a pytest worker that asks for the same one. Every stack reads the tests' Step Functions Local
# mock config (``SFN_MOCK_CONFIG``): only an execution started as ``<state machine ARN>#<test case>`` uses it, so
# the other tests see a stack exactly as ``make run`` starts it, and the files that inject failures share a stack
# with those that do not.
_started_stacks: dict = {}
MOCK_CONFIG = ROOT / "tests" / "local" / "mock_configs" / "unexpected_errors.json"


@pytest.fixture(scope="session")
def local_stack_factory():
    """``factory(overrides, time_scale)`` -> a running LocalStack, shared by the tests that ask for the same one."""

    def factory(overrides: dict | None = None, time_scale: float = 0.01) -> LocalStack:
        key = (tuple(sorted((overrides or {}).items())), time_scale)
        if key not in _started_stacks:
            _started_stacks[key] = LocalStack(overrides, time_scale, {"SFN_MOCK_CONFIG": str(MOCK_CONFIG)})
        return _started_stacks[key]

    yield factory
    stacks = list(_started_stacks.values())
    for stack in stacks:  # Ctrl-C to every stack first: they stop side by side
        stack.interrupt()
    for stack in stacks:
        stack.cleanup()
    _started_stacks.clear()
