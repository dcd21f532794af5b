"""Shared helpers: a fake Lambda runtime (python callables) and one-call execution of a definition."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import boto3
from moto import mock_aws

from local_runtime import errors
from local_runtime.stepfunctions import Engine, Integrations, VirtualClock
from local_runtime.stepfunctions.execution import Execution


@contextmanager
def moto_clients() -> Iterator[Callable[[str], Any]]:
    """An ``aws_client`` factory against moto: one boto3 client per service, while the block lasts."""
    with mock_aws():
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = boto3.client(service, region_name="us-east-1")
            return clients[service]

        yield client


class FakeLambda:
    """``lambda_invoke`` for tests: a dict of name -> callable(event); exceptions become error envelopes."""

    def __init__(self, functions: dict[str, Callable[[Any], Any]]) -> None:
        self.functions = functions
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, name: str, payload: bytes) -> tuple[bytes, str | None]:
        if name not in self.functions:
            raise errors.ResourceNotFoundException(f"Function not found: {name}")
        event = json.loads(payload) if payload else None
        self.calls.append((name, event))
        try:
            result = self.functions[name](event)
        except Exception as exc:
            envelope = {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": "r-1",
                        "stackTrace": []}
            return json.dumps(envelope).encode(), "Unhandled"
        return json.dumps(result).encode(), None


def run(definition: dict | str, data: Any = None, functions: dict | None = None, clock=None,
        aws_client=None) -> Execution:
    engine = make_engine(functions, clock, aws_client)
    return run_on(engine, definition, data)


def make_engine(functions: dict | None = None, clock=None, aws_client=None) -> Engine:
    integrations = Integrations(lambda_invoke=FakeLambda(functions or {}), aws_client=aws_client)
    return Engine(clock or VirtualClock(auto_advance=True), integrations)


def run_on(engine: Engine, definition, data: Any = None, name: str = "exec") -> Execution:
    program = engine.compile(definition)
    return engine.run_sync(program, arn=f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}", name=name,
                           state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:machine",
                           state_machine_name="machine", input_text=json.dumps({} if data is None else data))


def output(execution: Execution) -> Any:
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    return json.loads(execution.output)


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
