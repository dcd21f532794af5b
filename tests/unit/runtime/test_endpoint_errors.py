"""Every malformed request at the AWS endpoint gets an AWS-shaped 4xx: never a 500, an empty body or a crash.

The endpoint is the runtime's own (``Gateway``: moto, our Step Functions, EventBridge PutEvents, SNS and Lambda
Invoke behind it), driven in process through WSGI. Two parts:

* a sweep: every operation of every service the endpoint checks (botocore's models: Step Functions, DynamoDB,
  DynamoDB Streams, SQS (JSON and query), SNS, EventBridge, CloudWatch Logs, CloudWatch) gets each kind of malformed
  request once: not JSON, not UTF-8, not an object, nested 100,000 deep, a member of the wrong type, required
  members missing, an unknown operation;
* fuzzing (hypothesis, derandomised so CI repeats it): arbitrary bytes and JSON values at arbitrary targets.

Each answer must be a 4xx with a body that botocore's parser for the service's protocol reads an error code from.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import botocore.parsers
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from local_runtime.events.models import EventBridge
from local_runtime.gateway import Gateway
from local_runtime.awslambda import FunctionSpec, LambdaService
from local_runtime.runtime import _client
from local_runtime.sns.models import SnsFanout
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.events.targets import TargetDelivery

SESSION = botocore.session.get_session()
JSON_SERVICES = ("stepfunctions", "dynamodb", "dynamodbstreams", "sqs", "events", "logs", "cloudwatch")
QUERY_SERVICES = {"sns": "sns", "sqs": "sqs", "cloudwatch": "monitoring"}
SIGNING = {"stepfunctions": "states", "dynamodb": "dynamodb", "dynamodbstreams": "dynamodb", "sqs": "sqs",
           "events": "events", "logs": "logs", "cloudwatch": "monitoring", "sns": "sns", "lambda": "lambda"}
DEEP = b"[" * 100_000 + b"]" * 100_000
NOT_JSON = [b"123", b"[]", b'"text"', b"null", b"garbage", b'{"a": "\xff"}', b"\xff\xfe\x00", DEEP,
            b'{"a": ' * 50_000 + b"1" + b"}" * 50_000]


@pytest.fixture(scope="module")
def endpoint():
    gateway = Gateway()
    engine = Engine(VirtualClock(), Integrations())
    gateway.stepfunctions = StepFunctionsService(engine)
    clients = lambda service: _client(service, "http://127.0.0.1:9", gateway)  # noqa: E731 - in process
    gateway.eventbridge = EventBridge(clients, TargetDelivery(clients, lambda *args, **kwargs: None, None))
    gateway.sns = SnsFanout(lambda *args, **kwargs: None)
    spec = FunctionSpec(name="f", arn="arn:aws:lambda:us-east-1:123456789012:function:f", handler="app.handler",
                        code_dir="/nonexistent", layer_dirs=[], timeout=3)
    gateway.lambda_service = LambdaService([spec], {}, python="/nonexistent/python")  # never starts a worker here
    gateway.ready.set()
    yield Client(gateway)
    gateway.lambda_service.stop()


def auth(signing: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{signing}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature=00")


def call_json(client: Client, service: str, operation: str, body: bytes):
    model = SESSION.get_service_model(service)
    version = model.metadata.get("jsonVersion", "1.0")
    return client.post("/", data=body, headers={
        "X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation}", "Authorization": auth(SIGNING[service]),
        "Content-Type": f"application/x-amz-json-{version}"})


def call_query(client: Client, service: str, body: bytes):
    return client.post("/", data=body, headers={"Authorization": auth(QUERY_SERVICES[service]),
                                                "Content-Type": "application/x-www-form-urlencoded"})


def assert_aws_error(response, protocol: str, expected_code: str | None = None) -> str:
    """A 4xx whose body botocore's parser for ``protocol`` reads an error code from; returns the code."""
    body = response.get_data()
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    assert body, "empty body"
    assert response.headers.get("x-amzn-RequestId")
    parser = botocore.parsers.create_parser(protocol)
    parsed = parser.parse({"status_code": response.status_code, "headers": dict(response.headers), "body": body},
                          None)
    code = parsed["Error"]["Code"]
    assert code, parsed
    if expected_code is not None:
        assert code == expected_code, parsed
    return code


def _wrong_value(shape) -> object:
    """A JSON value whose type does not fit ``shape`` (None when every type fits: a document)."""
    if getattr(shape, "is_document_type", False):
        return None
    return {"structure": "text", "map": ["list"], "list": {"an": "object"}, "string": {"an": "object"},
            "blob": 12, "boolean": "yes", "integer": "12", "long": [1], "float": "1.5", "double": {},
            "timestamp": {"an": "object"}}.get(shape.type_name, None)


def json_targets() -> list[tuple[str, str]]:
    return [(service, operation) for service in JSON_SERVICES
            for operation in SESSION.get_service_model(service).operation_names]


# -- the sweep ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("service", JSON_SERVICES)
def test_every_json_operation_refuses_each_kind_of_malformed_body(endpoint, service):
    model = SESSION.get_service_model(service)
    for operation in model.operation_names:
        for body in NOT_JSON:
            assert_aws_error(call_json(endpoint, service, operation, body), "json", "SerializationException")
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        if shape.required_members:
            code = assert_aws_error(call_json(endpoint, service, operation, b"{}"), "json", "ValidationException")
            assert code == "ValidationException"
        for name, member in shape.members.items():
            wrong = _wrong_value(member)
            if wrong is None:
                continue
            response = call_json(endpoint, service, operation, json.dumps({name: wrong}).encode())
            assert_aws_error(response, "json", "SerializationException")
    assert_aws_error(call_json(endpoint, service, "NoSuchOperation", b"{}"), "json", "UnknownOperationException")
    assert_aws_error(call_json(endpoint, service, "", b"{}"), "json", "UnknownOperationException")


def test_step_functions_helpers_are_not_operations(endpoint):
    for helper in ("Required", "Page", "Machine", "Execution", "Prepare", "ExecutionFields", "ForgetExecution"):
        assert_aws_error(call_json(endpoint, "stepfunctions", helper, b'{"a": 1}'), "json",
                         "UnknownOperationException")


@pytest.mark.parametrize("service", sorted(QUERY_SERVICES))
def test_every_query_service_refuses_unknown_missing_and_malformed_actions(endpoint, service):
    for body in (b"Action=NoSuchAction&Version=1", b"Version=1", b"", b"\xff\xfe%%%", b"garbage"):
        assert_aws_error(call_query(endpoint, service, body), "query")
    assert assert_aws_error(call_query(endpoint, service, b"Action=Nope"), "query") == "InvalidAction"
    assert assert_aws_error(call_query(endpoint, service, b"Version=1"), "query") == "MissingAction"
    assert assert_aws_error(call_query(endpoint, service, b"\xff"), "query") == "MalformedQueryString"


@pytest.mark.parametrize("body", [b"garbage", b'{"a": "\xff"}', b"\xff\xfe\x00", b"\xff", DEEP, NOT_JSON[-1]])
def test_lambda_invoke_refuses_a_payload_that_is_not_json(endpoint, body):
    response = endpoint.post("/2015-03-31/functions/f/invocations", data=body,
                             headers={"Authorization": auth("lambda")})
    assert_aws_error(response, "rest-json", "InvalidRequestContentException")


def test_an_unknown_service_is_refused(endpoint):
    response = endpoint.post("/", data=b"{}", headers={"X-Amz-Target": "Foo_2020.Bar", "Authorization": auth("foobar"),
                                                       "Content-Type": "application/x-amz-json-1.1"})
    assert_aws_error(response, "json", "InvalidSignatureException")
    response = endpoint.post("/", data=b"Action=Bar", headers={"Authorization": auth("foobar"),
                                                               "Content-Type": "application/x-www-form-urlencoded"})
    assert_aws_error(response, "query", "InvalidSignatureException")


def test_a_json_service_without_a_target_names_no_operation(endpoint):
    for signing in ("states", "dynamodb", "events", "logs"):
        response = endpoint.post("/", data=b"{}", headers={"Authorization": auth(signing),
                                                           "Content-Type": "application/x-amz-json-1.0"})
        assert_aws_error(response, "json", "UnknownOperationException")


def test_well_formed_requests_still_reach_the_services(endpoint):
    response = call_json(endpoint, "stepfunctions", "ListStateMachines", b"{}")
    assert (response.status_code, json.loads(response.get_data())) == (200, {"stateMachines": []})
    response = call_json(endpoint, "dynamodb", "ListTables", b"{}")  # moto's state is the process's: any tables
    assert response.status_code == 200 and isinstance(json.loads(response.get_data())["TableNames"], list)
    response = call_query(endpoint, "sns", urlencode({"Action": "ListTopics", "Version": "2010-03-31"}).encode())
    assert response.status_code == 200 and b"ListTopicsResponse" in response.get_data()
    response = call_json(endpoint, "events", "PutEvents", json.dumps({"Entries": [
        {"Source": "s", "DetailType": "d", "Detail": "{}"}]}).encode())
    assert response.status_code == 200 and json.loads(response.get_data())["FailedEntryCount"] == 0


# -- fuzzing ------------------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                                            children, max_size=4),
                           max_leaves=12)
FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _malformed_for(service: str, operation: str, value: object) -> bool:
    """True when ``value`` as a body cannot be a valid request: not an object, or a known member's JSON type (at
    the top level) does not fit, or a required member is missing."""
    if not isinstance(value, dict):
        return True
    shape = SESSION.get_service_model(service).operation_model(operation).input_shape
    if shape is None:
        return False
    if any(value.get(name) is None for name in shape.required_members):
        return True
    from local_runtime.protocols import _type_ok

    return any(name in shape.members and item is not None and not _type_ok(shape.members[name].type_name, item)
               for name, item in value.items())


@FUZZ
@given(target=st.sampled_from(json_targets()), body=st.binary(max_size=64))
def test_fuzz_json_targets_with_bytes(endpoint, target, body):
    service, operation = target
    try:
        value = json.loads(body) if body.strip() else {}  # an empty body is an empty request, as on AWS
    except ValueError:
        value = None
        malformed = True
    else:
        malformed = _malformed_for(service, operation, value)
    if malformed:
        assert_aws_error(call_json(endpoint, *target, body), "json")


@FUZZ
@given(target=st.sampled_from(json_targets()), value=JSON_VALUES)
def test_fuzz_json_targets_with_json_values(endpoint, target, value):
    if _malformed_for(*target, value):
        assert_aws_error(call_json(endpoint, *target, json.dumps(value).encode()), "json")


@FUZZ
@given(service=st.sampled_from(sorted(QUERY_SERVICES)), body=st.binary(max_size=64) | st.builds(
    lambda action, rest: urlencode({"Action": action}).encode() + rest, st.text(min_size=1, max_size=20),
    st.binary(max_size=20)))
def test_fuzz_query_services(endpoint, service, body):
    from urllib.parse import parse_qsl

    try:
        action = dict(parse_qsl(body.decode("utf-8"))).get("Action")
    except UnicodeDecodeError:
        action = None
    if action in SESSION.get_service_model(service).operation_names:
        return  # a real action: its answer depends on its parameters, not a malformed request
    assert_aws_error(call_query(endpoint, service, body), "query")


# -- no CORS: a web page open in the user's browser cannot call the endpoint ----------------------------------------

@pytest.mark.parametrize("method, headers", [
    ("POST", {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Authorization": auth("dynamodb"),
              "Content-Type": "application/x-amz-json-1.0"}),
    ("POST", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Authorization": auth("states"),
              "Content-Type": "application/x-amz-json-1.0"}),
    ("OPTIONS", {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-amz-target,content-type"}),
])
def test_no_response_allows_another_origin(endpoint, method, headers):
    response = endpoint.open("/", method=method, data=b"{}" if method == "POST" else None,
                             headers={"Origin": "http://evil.example", **headers})
    assert [name for name in response.headers.keys() if name.lower().startswith("access-control-")] == []
