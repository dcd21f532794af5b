"""The one invoke type (awslambda/interface.py): the runtime hands every caller of Lambda the same callable,
LocalRuntime.invoke, and each caller's shape of call reaches LambdaService.invoke as that caller means it."""
from __future__ import annotations

from local_runtime.awslambda.interface import InvokeResult
from local_runtime.events.targets import TargetDelivery
from local_runtime.runtime import LocalRuntime
from local_runtime.sns.models import SnsFanout

TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:dofs-Fn"


class RecordingLambda:
    """LambdaService.invoke's signature; records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def invoke(self, name, payload, invocation_type="RequestResponse", on_start=None, payload_is_json=False):
        self.calls.append((name, payload, invocation_type, on_start))  # payload_is_json: test_lambda_invoke_payload
        return InvokeResult(b'{"ok": true}', None, "req-1", 202 if invocation_type == "Event" else 200)


def runtime_with(service: RecordingLambda) -> LocalRuntime:
    runtime = object.__new__(LocalRuntime)  # only its invoke is used: no stack, no workers
    runtime.lambda_service = service
    return runtime


def test_a_json_value_is_serialised_and_bytes_are_sent_as_they_are():
    service = RecordingLambda()
    invoke = runtime_with(service).invoke
    started = lambda: None  # noqa: E731
    assert invoke("fn", {"Records": [1]}) == (b'{"ok": true}', None)
    assert invoke("fn", b'{"raw": 1}', on_start=started) == (b'{"ok": true}', None)
    assert service.calls == [("fn", b'{"Records": [1]}', "RequestResponse", None),
                             ("fn", b'{"raw": 1}', "RequestResponse", started)]


def test_sns_and_eventbridge_targets_invoke_asynchronously_through_it():
    service = RecordingLambda()
    invoke = runtime_with(service).invoke
    fanout = SnsFanout(invoke)
    fanout.subscribe(TOPIC, FUNCTION, {})
    assert fanout.publish(TOPIC, {"Message": "hi", "Subject": None, "MessageStructure": None,
                                  "MessageAttributes": {}}, "m-1") == 1
    TargetDelivery(lambda service_name: None, invoke).deliver(FUNCTION, '{"detail": {}}')
    assert [(name, kind) for name, _, kind, _ in service.calls] == [(FUNCTION, "Event"), (FUNCTION, "Event")]
    assert b'"Message": "hi"' in service.calls[0][1]
    assert service.calls[1][1] == b'{"detail": {}}'
