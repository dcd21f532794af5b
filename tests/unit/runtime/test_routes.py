"""The endpoint's route table (local_runtime/gateway/routes.py): which handler answers which request."""
from __future__ import annotations

import pytest

from local_runtime.gateway.app import Gateway
from local_runtime.gateway.routes import MOTO, ROUTES, route
from local_runtime.protocols import signing_service

SIGNED = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"


def environ(method: str = "POST", path: str = "/", target: str | None = None, service: str | None = None) -> dict:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if target is not None:
        env["HTTP_X_AMZ_TARGET"] = target
    if service is not None:
        env["HTTP_AUTHORIZATION"] = SIGNED.format(service)
    return env


@pytest.mark.parametrize(("request_environ", "handler", "arguments"), [
    (environ("GET", "/_local/console/index.html"), "console", {}),
    (environ("GET", "/_local/health"), "local", {}),
    (environ("GET", "/_local/nothing"), "local", {}),
    (environ(path="/", service="sns"), "sns", {}),
    (environ(target="AWSStepFunctions.StartExecution", service="states"), "stepfunctions",
     {"operation": "StartExecution"}),
    (environ(target="AWSStepFunctions.Required", service="states"), "stepfunctions", {"operation": "Required"}),
    (environ(target="AmazonSQS.StartMessageMoveTask", service="sqs"), "sqs_message_move_task",
     {"operation": "StartMessageMoveTask"}),
    (environ(path="/2015-03-31/functions/dofs-Fn/invocations", service="lambda"), "lambda_invoke",
     {"name": "dofs-Fn"}),
    (environ(target="AWSEvents.PutEvents", service="events"), "put_events", {"operation": "PutEvents"}),
    (environ(target="AWSEvents.PutTargets", service="events"), "rule_change", {"operation": "PutTargets"}),
    # moto's: other operations of the same services, and every other service
    (environ(target="AmazonSQS.ReceiveMessage", service="sqs"), "moto", {}),
    (environ(target="AWSEvents.ListRules", service="events"), "moto", {}),
    (environ("GET", "/2015-03-31/functions/dofs-Fn/invocations", service="lambda"), "moto", {}),
    (environ("GET", "/", service="sns"), "moto", {}),
    (environ(target="DynamoDB_20120810.GetItem", service="dynamodb"), "moto", {}),
    (environ(target="AWSStepFunctionsX.StartExecution"), "moto", {}),
])
def test_each_request_goes_to_its_route(request_environ, handler, arguments):
    chosen, found = route(request_environ)
    assert (chosen.handler, found) == (handler, arguments)


def test_only_the_runtime_own_routes_skip_the_protocol_checks():
    assert [r.handler for r in ROUTES if not r.aws] == ["console", "local"]
    assert MOTO.aws


def test_every_route_names_a_handler_of_the_gateway():
    assert all(callable(getattr(Gateway, f"_{r.handler}", None)) for r in (*ROUTES, MOTO))
    assert len({r.handler for r in ROUTES}) == len(ROUTES)


def test_sns_is_recognised_by_the_credential_scope_service_not_by_text_elsewhere_in_the_header():
    # the signed-headers text holds "/sns/aws4_request", but the credential scope names DynamoDB
    header = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
              "SignedHeaders=host;x-note/sns/aws4_request, Signature=0")
    request = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_AUTHORIZATION": header}
    assert signing_service(request) == "dynamodb"
    assert route(request)[0] is MOTO


@pytest.mark.parametrize(("header", "service"), [
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0", "sns"),
    ("AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID/20260101/eu-west-1/SQS/aws4_request, Signature=0",
     "sqs"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request,SignedHeaders=host,Signature=0",
     "dynamodb"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/sns/aws4_request, SignedHeaders=host, Signature=0", None),
    ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sns/aws4, SignedHeaders=host, Signature=0", None),
    ("AWS4-HMAC-SHA256 SignedHeaders=x-credential=a/b/c/sns/aws4_request, Signature=0", None),
    ("AWS AKID:signature/sns/aws4_request", None),
    ("", None),
])
def test_signing_service_is_the_fourth_field_of_the_credential_scope(header, service):
    assert signing_service({"HTTP_AUTHORIZATION": header}) == service
