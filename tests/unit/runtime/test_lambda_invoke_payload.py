"""A Lambda invoke's payload on the Step Functions task path: the engine's JSON is measured, not parsed again.

Lambda's Invoke refuses a payload over its size limit and one that is not JSON. The engine makes a task's payload
with its JSON encoder (stepfunctions/payloads.py), so the runtime's invoker tells the Lambda service so
(``payload_is_json``; test_invoke_interface.py): the size is still checked, the bytes are not parsed a second time in
the runtime's process.
"""
from __future__ import annotations

import pytest

from local_runtime.awslambda import exceptions
from local_runtime.awslambda import FunctionSpec, LambdaService
from local_runtime.awslambda.models import MAX_SYNC_REQUEST_BYTES


@pytest.fixture()
def service():
    spec = FunctionSpec(name="f", arn="arn:aws:lambda:us-east-1:123456789012:function:f", handler="app.handler",
                        code_dir="/nonexistent", layer_dirs=[], timeout=3)
    service = LambdaService([spec], {}, python="/nonexistent/python")  # DryRun invokes start no worker
    yield service
    service.stop()


def test_a_payload_not_said_to_be_json_is_parsed_and_refused(service):
    with pytest.raises(exceptions.InvalidRequestContentException):
        service.invoke("f", b"garbage", invocation_type="DryRun")


def test_a_payload_said_to_be_json_is_not_parsed_again(service):
    assert service.invoke("f", b"garbage", invocation_type="DryRun", payload_is_json=True).status_code == 204


def test_a_payload_said_to_be_json_is_still_measured(service):
    too_large = b'"' + b"x" * MAX_SYNC_REQUEST_BYTES + b'"'
    with pytest.raises(exceptions.RequestTooLargeException):
        service.invoke("f", too_large, invocation_type="DryRun", payload_is_json=True)
