"""Bad input at the orders API of a running local stack: refused with a short 4xx before anything starts, never a 5xx,
never an accepted order that is lost later, never an error body that echoes the input."""
import json

import pytest

from tests.support.orders import new_order_id


@pytest.fixture(scope="module")
def stack(local_stack_factory):
    return local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)


def never_started(stack, order_id):
    machine = stack.outputs["OrderStateMachineArn"]
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + order_id
    client = stack.client("stepfunctions")
    with pytest.raises(client.exceptions.ExecutionDoesNotExist):
        client.describe_execution(executionArn=arn)


def test_lone_surrogate_is_a_400_and_starts_nothing(stack):
    order_id = new_order_id("SURR")
    body = '{"orderId": "%s", "customerId": "CUST-\\ud800", "items": [{"sku": "SKU-001", "quantity": 1}]}' % order_id
    response = stack.api().post("orders", data=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {
        "error": "BadRequest", "errorType": "InvalidRequestError",
        "message": "$.customerId holds a lone surrogate (\\ud800): text must be valid Unicode"})
    never_started(stack, order_id)


def test_invalid_utf8_is_a_400(stack):
    response = stack.api().post("orders", data=b'{"customerId": "CUST-\xff", "items": []}',
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errorType"] == "BadRequestBody"


def test_body_over_lambdas_quota_is_413_request_too_long(stack):
    order_id = new_order_id("BIG7")
    order = json.dumps({"orderId": order_id, "customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}]})
    body = order[:-1] + " " * (7 * 1024 * 1024) + "}"  # valid JSON of 7 MB: passes the model, too big to invoke
    response = stack.api().post("orders", data=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (413, {"message": "Request Too Long"})
    never_started(stack, order_id)


@pytest.mark.parametrize("megabytes", [11, 50])
def test_body_over_10_mb_is_413(stack, megabytes):
    body = json.dumps({"customerId": "x" * (megabytes * 1024 * 1024), "items": [{"sku": "SKU-001", "quantity": 1}]})
    response = stack.api().post("orders", data=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.text) == (413, "HTTP content length exceeded 10485760 bytes.")


def test_invalid_field_of_9_mb_gets_a_short_400(stack):
    body = json.dumps({"customerId": "x" * (9 * 1024 * 1024), "items": [{"sku": "SKU-001", "quantity": 1}]})
    response = stack.api().post("orders", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert len(response.content) < 1_000
    assert response.json()["message"].startswith("Invalid request body: [$.customerId: 'xxx")
