"""A real boto3 Step Functions client whose requests go to a ``StepFunctionsService`` in the same process.

botocore builds, signs and parses every call as usual; a ``before-send`` hook hands the request body to
``service.handle`` and turns the answer (or the ``ServiceError``) into the HTTP response the protocol expects.
No socket is opened.
"""
from __future__ import annotations

import json

import boto3
from botocore.awsrequest import AWSResponse

from local_runtime.errors import ServiceError


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def sfn_client(service):
    client = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url="http://sfn.local",
                          aws_access_key_id="testing", aws_secret_access_key="testing")

    def send(request, **_kwargs) -> AWSResponse:
        action = request.headers["X-Amz-Target"].decode().split(".", 1)[1]
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "local"}
        try:
            status, body = 200, service.handle(action, json.loads(request.body or b"{}"))
        except ServiceError as exc:
            status, body = exc.status, exc.to_json()
            headers["x-amzn-ErrorType"] = exc.code
        data = json.dumps(body).encode()
        return AWSResponse(request.url, status, headers, _Raw(data))

    client.meta.events.register("before-send.sfn", send)
    return client
