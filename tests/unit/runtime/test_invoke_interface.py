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
        self.calls.append((name, payload, invocation_type, on_start, payload_is_json))
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
    assert service.calls == [("fn", b'{"Records": [1]}', "RequestResponse", None, True),
                             ("fn", b'{"raw": 1}', "RequestResponse", started, False)]


def test_the_runtime_passes_the_engines_word_to_the_lambda_service():
    """``payload_is_json``: bytes the engine's JSON encoder made are not parsed again (test_lambda_invoke_payload.py
    shows what the Lambda service does with it); bytes nobody vouched for are; a JSON value the runtime serialises
    itself needs no second parse."""
    service = RecordingLambda()
    invoke = runtime_with(service).invoke
    assert invoke("f", b"{}", payload_is_json=True) == (b'{"ok": true}', None)  # the engine's JSON
    assert invoke("f", b"x") == (b'{"ok": true}', None)
    assert invoke("f", {"a": 1}) == (b'{"ok": true}', None)
    assert [(payload, is_json) for _, payload, _, _, is_json in service.calls] == [
        (b"{}", True), (b"x", False), (b'{"a": 1}', True)]


def test_sns_and_eventbridge_targets_invoke_asynchronously_through_it():
    service = RecordingLambda()
    invoke = runtime_with(service).invoke
    fanout = SnsFanout(invoke)
    fanout.subscribe(TOPIC, FUNCTION, {})
    assert fanout.publish(TOPIC, {"Message": "hi", "Subject": None, "MessageStructure": None,
                                  "MessageAttributes": {}}, "m-1") == 1
    TargetDelivery(lambda service_name: None, invoke).deliver(FUNCTION, '{"detail": {}}')
    assert [(name, kind) for name, _, kind, _, _ in service.calls] == [(FUNCTION, "Event"), (FUNCTION, "Event")]
    assert b'"Message": "hi"' in service.calls[0][1]
    assert service.calls[1][1] == b'{"detail": {}}'
