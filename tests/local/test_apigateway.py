"""REST API emulator over real HTTP on loopback, with the swagger body aws-sam-translator generates."""
from __future__ import annotations

import base64
import copy
import json
import os
import re
import threading
import time

import pytest
import requests
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from local_runtime.apigateway import RestApiEmulator, function_from_integration_uri
from local_runtime.awslambda.exceptions import RequestTooLargeException
from local_runtime.errors import ResourceNotFoundException

ACCOUNT = "123456789012"
REGION = "us-east-1"
API_ID = "abc123defg"
STAGE = "dev"
API_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dofs-local-ApiFunction"
FILES_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dofs-local-FilesFunction"
API_KEY = "local-key-0123456789"

SAM_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Cors: "'*'"
      Models:
        OrderRequest:
          type: object
          required: [customer_id, items]
          properties:
            customer_id: {type: string, minLength: 1}
            items:
              type: array
              minItems: 1
              items:
                type: object
                required: [sku, quantity]
                properties:
                  sku: {type: string}
                  quantity: {type: integer, minimum: 1}
      GatewayResponses:
        BAD_REQUEST_BODY:
          StatusCode: 400
          ResponseTemplates:
            application/json: '{"message": "$context.error.message", "errors": "$context.error.validationErrorString"}'
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/api.zip
      Handler: app.lambda_handler
      Runtime: python3.13
      Events:
        CreateOrder:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /orders
            Method: post
            RequestModel: {Model: OrderRequest, Required: true, ValidateBody: true}
        GetOrder:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /orders/{orderId}
            Method: get
            Auth: {ApiKeyRequired: true}
        ReplaceOrder:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /orders/{orderId}
            Method: put
            RequestModel: {Model: OrderRequest, Required: true, ValidateBody: true, ValidateParameters: true}
            RequestParameters:
              - method.request.querystring.reason: {Required: true}
        Stats:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /orders/stats
            Method: get
  FilesFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/files.zip
      Handler: app.lambda_handler
      Runtime: python3.13
      Events:
        Files:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /files/{proxy+}
            Method: any
"""


def _resolve(node, functions: dict[str, str]):
    """The few intrinsics the RestApi body holds (the lead's loader resolves them all in the runtime)."""
    if isinstance(node, list):
        return [_resolve(n, functions) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::Sub"}:
        text = node["Fn::Sub"].replace("${AWS::Region}", REGION)
        return re.sub(r"\$\{(\w+)\.Arn\}", lambda m: functions[m.group(1)], text)
    if set(node) == {"Ref"}:
        return {"AWS::StackName": "dofs-local"}[node["Ref"]]
    return {k: _resolve(v, functions) for k, v in node.items()}


@pytest.fixture(scope="module")
def swagger_body() -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    cfn = Translator({}, Parser()).translate(yaml_parse(SAM_TEMPLATE), {}, get_managed_policy_map=lambda: {})
    body = next(r["Properties"]["Body"] for r in cfn["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi")
    return _resolve(body, {"ApiFunction": API_FUNCTION, "FilesFunction": FILES_FUNCTION})


class FakeLambda:
    """Stands in for LambdaService.invoke: records events, answers with a per-function canned response."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.responses: dict[str, tuple[bytes, str | None]] = {}
        self.delay = 0.0
        self.raise_with = None

    def ok(self, function: str, status: int = 200, body: dict | None = None) -> None:
        self.responses[function] = (json.dumps({"statusCode": status, "headers": {"Content-Type": "application/json"},
                                                "body": json.dumps(body or {"ok": True})}).encode(), None)

    def __call__(self, function: str, event: dict) -> tuple[bytes, str | None]:
        self.calls.append((function, event))
        if self.delay:
            time.sleep(self.delay)
        if self.raise_with:
            self.raise_with(function, event)
        return self.responses.get(function) or (json.dumps({"statusCode": 200, "body": "{}"}).encode(), None)


@pytest.fixture
def fake_lambda() -> FakeLambda:
    fake = FakeLambda()
    fake.ok(API_FUNCTION)
    fake.ok(FILES_FUNCTION, body={"files": True})
    return fake


@pytest.fixture
def api(swagger_body, fake_lambda):
    emulator = RestApiEmulator(swagger_body, STAGE, API_ID, fake_lambda, api_keys={"key-id-1": API_KEY})
    server = emulator.serve("127.0.0.1", 0)
    yield server.url
    server.shutdown()


VALID_ORDER = {"customer_id": "c-1", "items": [{"sku": "SKU-1", "quantity": 2}]}


def test_translator_body_has_the_shapes_the_emulator_reads(swagger_body):
    post = swagger_body["paths"]["/orders"]["post"]
    assert post["x-amazon-apigateway-request-validator"] == "body-only"
    assert post["parameters"][0]["schema"] == {"$ref": "#/definitions/orderrequest"}
    assert swagger_body["paths"]["/orders/{orderId}"]["get"]["security"] == [{"api_key": []}]
    assert swagger_body["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert "x-amazon-apigateway-any-method" in swagger_body["paths"]["/files/{proxy+}"]
    uri = post["x-amazon-apigateway-integration"]["uri"]
    assert function_from_integration_uri(uri) == API_FUNCTION


# ----- routing ---------------------------------------------------------------------------------------------------------

def test_literal_resource_wins_over_path_parameter(api, fake_lambda):
    response = requests.get(f"{api}/{STAGE}/orders/stats", timeout=5)
    assert response.status_code == 200
    function, event = fake_lambda.calls[-1]
    assert (function, event["resource"], event["pathParameters"]) == (API_FUNCTION, "/orders/stats", None)


def test_path_parameter_route_and_stage_prefix_is_optional(api, fake_lambda):
    with_stage = requests.get(f"{api}/{STAGE}/orders/o-42", headers={"x-api-key": API_KEY}, timeout=5)
    without_stage = requests.get(f"{api}/orders/o-42", headers={"x-api-key": API_KEY}, timeout=5)
    assert (with_stage.status_code, without_stage.status_code) == (200, 200)
    events = [event for _, event in fake_lambda.calls]
    assert [e["pathParameters"] for e in events] == [{"orderId": "o-42"}, {"orderId": "o-42"}]
    assert [e["requestContext"]["path"] for e in events] == ["/dev/orders/o-42", "/dev/orders/o-42"]


def test_greedy_proxy_takes_the_rest_of_the_path_and_any_method(api, fake_lambda):
    response = requests.delete(f"{api}/{STAGE}/files/a/b/c.txt", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"files": True}
    function, event = fake_lambda.calls[-1]
    assert function == FILES_FUNCTION
    assert (event["resource"], event["httpMethod"], event["pathParameters"]) == (
        "/files/{proxy+}", "DELETE", {"proxy": "a/b/c.txt"})


@pytest.mark.parametrize("method, path", [
    ("GET", "/dev/nothing/here"),
    ("DELETE", "/dev/orders"),        # resource exists, method does not
    ("GET", "/dev/files"),            # {proxy+} needs at least one segment
    ("GET", "/dev/orders/o-1/extra"),
])
def test_unknown_route_or_method_is_missing_authentication_token(api, fake_lambda, method, path):
    response = requests.request(method, f"{api}{path}", timeout=5)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert fake_lambda.calls == []


def test_cors_preflight_answers_from_the_mock_integration(api, fake_lambda):
    response = requests.options(f"{api}/{STAGE}/orders", timeout=5)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert fake_lambda.calls == []


# ----- validation ------------------------------------------------------------------------------------------------------

def test_invalid_body_is_rejected_with_validation_detail_and_nothing_invoked(api, fake_lambda):
    response = requests.post(f"{api}/{STAGE}/orders", json={"customer_id": "", "items": [{"sku": "A", "quantity": 0}]},
                             timeout=5)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert response.json() == {
        "message": "Invalid request body",
        "errors": "[$.customer_id: '' should be non-empty, $.items[0].quantity: 0 is less than the minimum of 1]",
    }
    assert fake_lambda.calls == []


@pytest.mark.parametrize("data", [b"", b"not json", b"[1, 2]"])
def test_missing_or_non_json_or_wrong_type_body_is_rejected(api, fake_lambda, data):
    response = requests.post(f"{api}/{STAGE}/orders", data=data, headers={"Content-Type": "application/json"},
                             timeout=5)
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid request body"
    assert fake_lambda.calls == []


def test_validation_errors_never_echo_unbounded_input(api, fake_lambda):
    # jsonschema's messages quote the value ("'yyy...' is not of type 'integer'"): a 3 MB value, 32 errors
    body = {"customer_id": "", "items": [{"sku": "SKU-1", "quantity": "y" * 3_000_000}]
            + [{"sku": 1, "quantity": 0}] * 15}
    response = requests.post(f"{api}/{STAGE}/orders", json=body, timeout=30)
    assert response.status_code == 400
    assert len(response.content) < 4_000
    errors = response.json()["errors"]
    assert "is not of type 'integer'" not in errors  # cut before the end of the quoted value
    assert errors.startswith("[$.customer_id: '' should be non-empty, $.items[0].quantity: 'yyy")
    assert errors.endswith(", and 22 more]")
    assert fake_lambda.calls == []


def test_body_over_10_mb_is_413_before_anything_else(api, fake_lambda):
    # recorded from AWS: 413, text body "HTTP content length exceeded 10485760 bytes." (no key needed to get it)
    big = json.dumps({**VALID_ORDER, "pad": "z" * (10 * 1024 * 1024)})
    for data in (big.encode(), iter([big[:5_000_000].encode(), big[5_000_000:].encode()])):  # sized, then chunked
        response = requests.post(f"{api}/{STAGE}/orders", data=data, timeout=30,
                                 headers={"Content-Type": "application/json"})
        assert (response.status_code, response.text) == (413, "HTTP content length exceeded 10485760 bytes.")
    assert fake_lambda.calls == []
    chunked = requests.post(f"{api}/{STAGE}/orders", data=iter([json.dumps(VALID_ORDER).encode()]), timeout=5,
                            headers={"Content-Type": "application/json"})
    assert chunked.status_code == 200 and json.loads(fake_lambda.calls[-1][1]["body"]) == VALID_ORDER


def test_proxy_event_over_the_invoke_quota_is_413_request_too_long(api, fake_lambda):
    # recorded from AWS: a body under API Gateway's 10 MB whose event is over Lambda's 6 MB
    def too_large(function, event):
        raise RequestTooLargeException("Request must be smaller than 6291456 bytes for the InvokeFunction operation")

    fake_lambda.raise_with = too_large
    response = requests.post(f"{api}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
    assert (response.status_code, response.json()) == (413, {"message": "Request Too Long"})
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"


def test_default_bad_request_body_response_without_gateway_responses(swagger_body, fake_lambda):
    body = copy.deepcopy(swagger_body)
    del body["x-amazon-apigateway-gateway-responses"]
    server = RestApiEmulator(body, STAGE, API_ID, fake_lambda).serve("127.0.0.1", 0)
    try:
        response = requests.post(f"{server.url}/{STAGE}/orders", json={"items": []}, timeout=5)
    finally:
        server.shutdown()
    assert (response.status_code, response.json()) == (400, {"message": "Invalid request body"})
    assert fake_lambda.calls == []


def test_valid_body_is_passed_on_verbatim(api, fake_lambda):
    raw = json.dumps(VALID_ORDER, indent=2)
    response = requests.post(f"{api}/{STAGE}/orders", data=raw, headers={"Content-Type": "application/json"},
                             timeout=5)
    assert response.status_code == 200
    _, event = fake_lambda.calls[-1]
    assert (event["body"], event["isBase64Encoded"]) == (raw, False)


def test_required_query_parameter_is_validated(api, fake_lambda):
    missing = requests.put(f"{api}/{STAGE}/orders/o-1", json=VALID_ORDER, timeout=5)
    assert missing.status_code == 400
    assert missing.json() == {"message": "Missing required request parameters: [reason]"}
    assert fake_lambda.calls == []
    present = requests.put(f"{api}/{STAGE}/orders/o-1?reason=typo", json=VALID_ORDER, timeout=5)
    assert present.status_code == 200
    assert len(fake_lambda.calls) == 1


# ----- API keys --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
def test_api_key_method_without_a_valid_key_is_forbidden(api, fake_lambda, headers):
    response = requests.get(f"{api}/{STAGE}/orders/o-1", headers=headers, timeout=5)
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert fake_lambda.calls == []


def test_api_key_method_with_the_key_is_invoked_and_identity_carries_it(api, fake_lambda):
    response = requests.get(f"{api}/{STAGE}/orders/o-1", headers={"X-API-Key": API_KEY}, timeout=5)
    assert response.status_code == 200
    identity = fake_lambda.calls[-1][1]["requestContext"]["identity"]
    assert (identity["apiKey"], identity["apiKeyId"], identity["sourceIp"]) == (API_KEY, "key-id-1", "127.0.0.1")


# ----- proxy event -----------------------------------------------------------------------------------------------------

def test_proxy_event_fields(api, fake_lambda):
    response = requests.put(f"{api}/{STAGE}/orders/o-7?reason=a&reason=b&tag=x", json=VALID_ORDER,
                            headers={"X-Trace-Me": "1", "User-Agent": "dofs-test"}, timeout=5)
    assert response.status_code == 200
    function, event = fake_lambda.calls[-1]
    assert function == API_FUNCTION
    assert list(event) == ["resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                           "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
                           "body", "isBase64Encoded"]
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/orders/{orderId}", "/orders/o-7", "PUT")
    assert event["pathParameters"] == {"orderId": "o-7"}
    assert event["queryStringParameters"] == {"reason": "b", "tag": "x"}
    assert event["multiValueQueryStringParameters"] == {"reason": ["a", "b"], "tag": ["x"]}
    assert event["stageVariables"] is None
    assert event["headers"]["X-Trace-Me"] == "1"
    assert event["multiValueHeaders"]["X-Trace-Me"] == ["1"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert json.loads(event["body"]) == VALID_ORDER
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["resourcePath"], ctx["path"], ctx["httpMethod"]) == (
        "dev", "/orders/{orderId}", "/dev/orders/o-7", "PUT")
    assert (ctx["accountId"], ctx["apiId"], ctx["protocol"]) == (ACCOUNT, API_ID, "HTTP/1.1")
    assert ctx["identity"]["userAgent"] == "dofs-test"
    assert ctx["identity"]["apiKey"] is None
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["requestId"])
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["requestTime"])
    assert abs(ctx["requestTimeEpoch"] - time.time() * 1000) < 60_000
    assert response.headers["x-amzn-RequestId"] == ctx["requestId"]
    assert response.headers["x-amz-apigw-id"] == ctx["extendedRequestId"]


def test_request_without_query_or_body_has_null_maps(api, fake_lambda):
    requests.get(f"{api}/{STAGE}/orders/stats", timeout=5)
    _, event = fake_lambda.calls[-1]
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"], event["body"]) == (
        None, None, None)


def test_binary_request_body_is_base64(api, fake_lambda):
    data = bytes([0xff, 0x00, 0xfe, 0x10])
    requests.post(f"{api}/{STAGE}/files/upload.bin", data=data,
                  headers={"Content-Type": "application/octet-stream"}, timeout=5)
    _, event = fake_lambda.calls[-1]
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(data).decode(), True)


# ----- response mapping ------------------------------------------------------------------------------------------------

def test_response_status_headers_and_multi_value_headers(api, fake_lambda):
    fake_lambda.responses[API_FUNCTION] = (json.dumps({
        "statusCode": 202, "headers": {"Location": "/orders/o-1", "X-One": "a"},
        "multiValueHeaders": {"X-Many": ["1", "2"], "X-One": ["b"]}, "body": "{\"orderId\": \"o-1\"}",
    }).encode(), None)
    response = requests.post(f"{api}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
    assert response.status_code == 202
    assert response.json() == {"orderId": "o-1"}
    assert response.headers["Location"] == "/orders/o-1"
    assert response.headers["X-Many"] == "1, 2"
    assert response.headers["X-One"] == "b"
    assert response.headers["Content-Type"] == "application/json"


def test_base64_response_body_is_decoded(api, fake_lambda):
    data = bytes(range(256))
    fake_lambda.responses[FILES_FUNCTION] = (json.dumps({
        "statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
        "body": base64.b64encode(data).decode(), "isBase64Encoded": True}).encode(), None)
    response = requests.get(f"{api}/{STAGE}/files/blob", timeout=5)
    assert (response.status_code, response.content) == (200, data)
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_function_error_is_502(api, fake_lambda):
    fake_lambda.responses[API_FUNCTION] = (json.dumps({
        "errorMessage": "boom", "errorType": "ValidationError", "requestId": "r", "stackTrace": []}).encode(),
        "Unhandled")
    response = requests.post(f"{api}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


@pytest.mark.parametrize("payload", [
    b"not json",
    b"[1]",
    json.dumps({"body": "no status"}).encode(),
    json.dumps({"statusCode": 200, "body": {"not": "a string"}}).encode(),
    json.dumps({"statusCode": 200, "body": "!!", "isBase64Encoded": True}).encode(),
])
def test_malformed_proxy_response_is_502(api, fake_lambda, payload):
    fake_lambda.responses[API_FUNCTION] = (payload, None)
    response = requests.post(f"{api}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


def test_invoke_failure_is_500(api, fake_lambda):
    def unknown_function(function, event):
        raise ResourceNotFoundException(f"Function not found: {function}")

    fake_lambda.raise_with = unknown_function
    response = requests.post(f"{api}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})


def test_integration_timeout_is_504(swagger_body, fake_lambda):
    fake_lambda.delay = 0.5
    server = RestApiEmulator(swagger_body, STAGE, API_ID, fake_lambda, integration_timeout=0.1).serve("127.0.0.1", 0)
    try:
        response = requests.get(f"{server.url}/{STAGE}/orders/stats", timeout=5)
    finally:
        server.shutdown()
    assert (response.status_code, response.json()) == (504, {"message": "Endpoint request timed out"})


def test_concurrent_requests_are_served_in_parallel(api, fake_lambda):
    fake_lambda.delay = 0.3
    started = time.monotonic()
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        requests.get(f"{api}/{STAGE}/orders/stats", timeout=5).status_code)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
    assert time.monotonic() - started < 1.2


# ----- throttling (the local runtime saturated) -----------------------------------------------------------------------

def test_a_saturated_runtime_is_answered_429_for_work_and_reads_still_pass(swagger_body, fake_lambda):
    saturated: list[str | None] = ["12 task calls waiting for a worker (MAX_QUEUED_TASKS=12)"]
    emulator = RestApiEmulator(swagger_body, STAGE, API_ID, fake_lambda, api_keys={"key-id-1": API_KEY},
                               throttle=lambda: saturated[0])
    server = emulator.serve("127.0.0.1", 0)
    try:
        post = requests.post(f"{server.url}/{STAGE}/orders", json=VALID_ORDER, timeout=5)
        assert (post.status_code, post.json()) == (429, {"message": "Too Many Requests"})
        assert post.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        invalid = requests.post(f"{server.url}/{STAGE}/orders", json={"nope": 1}, timeout=5)
        put = requests.put(f"{server.url}/{STAGE}/orders/o-1", json=VALID_ORDER, timeout=5)
        assert (invalid.status_code, put.status_code) == (429, 429)  # before validation, as API Gateway does
        assert fake_lambda.calls == []
        no_key = requests.get(f"{server.url}/{STAGE}/orders/o-1", timeout=5)
        read = requests.get(f"{server.url}/{STAGE}/orders/o-1", headers={"x-api-key": API_KEY}, timeout=5)
        assert (no_key.status_code, read.status_code) == (403, 200)  # the key is checked first; reads pass
        assert emulator.throttled == 3
        saturated[0] = None
        assert requests.post(f"{server.url}/{STAGE}/orders", json=VALID_ORDER, timeout=5).status_code == 200
        assert [e["httpMethod"] for _, e in fake_lambda.calls] == ["GET", "POST"]
    finally:
        server.shutdown()


def test_time_queued_for_a_lambda_worker_is_not_integration_time(swagger_body):
    class QueuedLambda:
        """Each invocation waits a second for a free worker, then the worker answers at once."""

        def __init__(self) -> None:
            self.started: list[float] = []

        def __call__(self, function: str, event: dict, on_start=None):
            time.sleep(1.0)  # queued behind other invocations: longer than the integration timeout
            if on_start is not None:
                on_start()
            self.started.append(time.monotonic())
            return json.dumps({"statusCode": 200, "body": "{}"}).encode(), None

    invoke = QueuedLambda()
    emulator = RestApiEmulator(swagger_body, STAGE, API_ID, invoke, integration_timeout=0.5)
    server = emulator.serve("127.0.0.1", 0)
    try:
        response = requests.post(f"{server.url}/{STAGE}/orders", json=VALID_ORDER, timeout=10)
        assert response.status_code == 200  # not 504: the 0.5 s started when the worker took the invocation
        assert len(invoke.started) == 1
    finally:
        server.shutdown()
