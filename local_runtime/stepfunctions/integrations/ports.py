"""``Integrations``: what the task components may call outside the engine, given by whoever builds the engine.

* ``lambda_invoke(function_name, payload: bytes[, on_start][, payload_is_json]) -> (response: bytes,
  function_error | None)``: a synchronous invoke. The payload is the task's input as compact JSON, made once by the
  engine; the response is read once (awslambda.py). An invoker that takes ``on_start`` calls it when a worker takes
  the invocation (the task's TimeoutSeconds counts from there); else the call counts as started at once. An invoker
  that takes ``payload_is_json`` is told whether the engine made the payload with its JSON encoder (then it need not
  parse it to check it is JSON, as Lambda's Invoke does; False for a string ``Payload`` of ``lambda:invoke``, sent as
  is). Unknown functions raise ``errors.ResourceNotFoundException``, other service failures ``errors.ServiceError``.
* ``aws_client(service) -> boto3 client``: the AWS clients of optimized and SDK integrations and of the Distributed
  Map's S3 reader and writer (one client per service, made on first use).
* ``start_execution(body) -> Execution``: StartExecution from a Task (``states:startExecution``), set by the Step
  Functions API (service.py) when it is built on the engine; it returns the child execution.
* ``region``, ``account_id``: the ARNs the engine writes (Lambda function ARNs in causes, TaskScheduled's region).
"""
from __future__ import annotations

import inspect
import threading
from typing import Any, Callable

from ..failures import RUNTIME, StatesError

LambdaInvoke = Callable[..., "tuple[bytes, str | None]"]
ClientFactory = Callable[[str], Any]
OnStart = Callable[[], None] | None


class Integrations:
    def __init__(self, lambda_invoke: LambdaInvoke | None = None, aws_client: ClientFactory | None = None,
                 region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self.lambda_invoke = lambda_invoke
        self.invoke_reports_start = lambda_invoke is not None and _takes(lambda_invoke, "on_start")
        self.invoke_takes_json_flag = lambda_invoke is not None and _takes(lambda_invoke, "payload_is_json")
        self.aws_client = aws_client
        self.region = region
        self.account_id = account_id
        self.start_execution: Callable[[dict], Any] | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            if self.aws_client is None:
                raise StatesError(RUNTIME, "No AWS client factory is configured")
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._clients[service] = self.aws_client(service)
        return client

    def invoke(self, name: str, payload: bytes, on_start: OnStart = None,
               payload_is_json: bool = True) -> tuple[bytes, str | None]:
        """``lambda_invoke``, reporting the start through ``on_start`` (when the invoker does not, now)."""
        if self.lambda_invoke is None:
            if on_start is not None:
                on_start()
            raise StatesError(RUNTIME, "No Lambda runtime is configured")
        options: dict[str, Any] = {"payload_is_json": payload_is_json} if self.invoke_takes_json_flag else {}
        if on_start is not None:
            if self.invoke_reports_start:
                options["on_start"] = on_start
            else:
                on_start()
        return self.lambda_invoke(name, payload, **options)

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"


def _takes(fn: Callable, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


__all__ = ["Integrations", "LambdaInvoke", "ClientFactory", "OnStart"]
