"""API function: POST /orders -> 202/400/409, GET /orders/{orderId} -> 200/404."""

import base64
import json
import re

import uuid

import boto3
import pytest

from fulfillment import repository
from fulfillment.api import orders
from functions.api_handler import app

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def post(load_event, body):
    event = load_event("post_order.json")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def get(load_event, order_id):
    event = load_event("get_order.json")
    event["path"] = f"/orders/{order_id}"
    event["pathParameters"] = {"orderId": order_id}
    return event


def call(event, lambda_context):
    response = app.lambda_handler(event, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_post_starts_execution_named_after_order(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(load_event("post_order.json"), lambda_context)
    execution_arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":ORDER-EVENT-0001"
    assert (status, body) == (202, {"orderId": "ORDER-EVENT-0001", "executionArn": execution_arn,
                                    "status": "ACCEPTED"})
    described = boto3.client("stepfunctions", region_name="us-east-1").describe_execution(executionArn=execution_arn)
    execution_input = json.loads(described["input"])
    assert set(execution_input) == {"order"}
    order = execution_input["order"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", order.pop("received_at"))
    assert order == {"order_id": "ORDER-EVENT-0001", "customer_id": "CUST-001",
                     "items": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-002", "quantity": 2}]}


def test_post_without_order_id_gets_uuid(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(post(load_event, {"customerId": "CUST-002", "items": [{"sku": "SKU-002", "quantity": 1}]}),
                        lambda_context)
    assert status == 202
    assert UUID4.match(body["orderId"])
    assert body["executionArn"].endswith(":" + body["orderId"])


def test_post_twice_same_order_id_conflicts(aws, state_machine_arn, lambda_context, load_event):
    call(load_event("post_order.json"), lambda_context)
    status, body = call(load_event("post_order.json"), lambda_context)
    assert (status, body) == (409, {"error": "Conflict", "errorType": "OrderAlreadyExistsError",
                                    "message": "order ORDER-EVENT-0001 was already submitted"})
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=state_machine_arn)["executions"]
    assert [execution["name"] for execution in executions] == ["ORDER-EVENT-0001"]


def test_post_duplicate_skus_is_bad_request(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(load_event("post_order_invalid.json"), lambda_context)
    assert (status, body) == (400, {"error": "BadRequest", "errorType": "InvalidOrderError",
                                    "message": "duplicate sku SKU-001"})
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=state_machine_arn)["executions"]
    assert executions == []


def test_post_bad_order_id_is_bad_request(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(post(load_event, {"orderId": "no/slash", "customerId": "CUST-001",
                                          "items": [{"sku": "SKU-001", "quantity": 1}]}), lambda_context)
    assert (status, body["errorType"], body["message"]) == (400, "InvalidOrderError",
                                                            "order_id must match ^[A-Za-z0-9_-]{1,64}$")


def test_post_invalid_json_is_bad_request(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(post(load_event, "{not json"), lambda_context)
    assert (status, body["message"]) == (400, "request body is not valid JSON")


def test_post_without_body_is_bad_request(aws, state_machine_arn, lambda_context, load_event):
    event = load_event("post_order.json")
    event["body"] = None
    status, body = call(event, lambda_context)
    assert (status, body["message"]) == (400, "request body is not valid JSON")


def test_post_base64_body_is_decoded(aws, state_machine_arn, lambda_context, load_event):
    event = load_event("post_order.json")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    status, body = call(event, lambda_context)
    assert (status, body["orderId"]) == (202, "ORDER-EVENT-0001")


def test_get_stored_order(aws, orders_table, state_machine_arn, lambda_context, load_event):
    order = load_event("store_order.json")["order"]
    orders_table.put_item(Item={**order, "status": "PROCESSING", "created_at": "2025-11-22T09:00:02.000Z",
                                "updated_at": "2025-11-22T09:00:02.000Z", "payment_status": "CHARGED",
                                "reservation_status": "RESERVED", "charge_id": "ch_1", "task_token": "secret"})
    status, body = call(get(load_event, "ORDER-EVENT-0001"), lambda_context)
    assert (status, body) == (200, {
        "orderId": "ORDER-EVENT-0001",
        "customerId": "CUST-001",
        "status": "PROCESSING",
        "paymentStatus": "CHARGED",
        "reservationStatus": "RESERVED",
        "totalCents": 11597,
        "receivedAt": "2025-11-22T09:00:00.000Z",
        "createdAt": "2025-11-22T09:00:02.000Z",
        "updatedAt": "2025-11-22T09:00:02.000Z",
        "items": [{"sku": "SKU-001", "quantity": 1, "unitPriceCents": 8999},
                  {"sku": "SKU-002", "quantity": 2, "unitPriceCents": 1299}],
    })


def test_get_failed_order_has_reason(aws, orders_table, state_machine_arn, lambda_context, load_event):
    orders_table.put_item(Item={"order_id": "ORDER-F", "status": "FAILED",
                                "reason": "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"})
    status, body = call(get(load_event, "ORDER-F"), lambda_context)
    assert (status, body) == (200, {"orderId": "ORDER-F", "status": "FAILED",
                                    "reason": "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"})


def test_get_running_execution_is_received(aws, state_machine_arn, lambda_context, load_event):
    call(load_event("post_order.json"), lambda_context)
    status, body = call(load_event("get_order.json"), lambda_context)
    assert (status, body) == (200, {"orderId": "ORDER-EVENT-0001", "status": "RECEIVED"})


def test_get_unknown_order_is_not_found(aws, state_machine_arn, lambda_context, load_event):
    status, body = call(get(load_event, "ORDER-NOPE"), lambda_context)
    assert (status, body) == (404, {"error": "NotFound", "errorType": "OrderNotFoundError",
                                    "message": "order ORDER-NOPE not found"})


def test_missing_state_machine_env_is_a_500(aws, monkeypatch, lambda_context, load_event):
    monkeypatch.delenv("ORDER_STATE_MACHINE_ARN", raising=False)
    status, body = call(load_event("post_order.json"), lambda_context)
    assert (status, body) == (500, {"error": "InternalServerError", "message": "internal error"})


# -- Idempotency-Key, approval, batches, customers ------------------------------------------------------------------


def executions(state_machine_arn):
    return [e["name"] for e in boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=state_machine_arn)["executions"]]


KEYED_ORDER_ID = str(uuid.uuid5(orders.IDEMPOTENCY_NAMESPACE, "02c9fdf7d4:retry-safe-0001"))  # api key id : key


def test_same_idempotency_key_gives_the_same_order_and_one_execution(aws, state_machine_arn, lambda_context,
                                                                      load_event):
    event = load_event("post_order_idempotent.json")
    first = call(event, lambda_context)
    second = call(load_event("post_order_idempotent.json"), lambda_context)
    assert first == second
    assert first[0] == 202 and first[1]["orderId"] == KEYED_ORDER_ID
    assert executions(state_machine_arn) == [KEYED_ORDER_ID]


class WorkerKilled(BaseException):
    """The API function's process dies (SIGKILL): no handler, no Powertools cleanup runs (an Exception would make
    Powertools delete its in-progress record; a killed process leaves it)."""


@pytest.mark.parametrize("dies", ["before StartExecution", "after StartExecution"])
def test_request_that_died_half_way_is_answered_with_the_same_order_on_retry(aws, state_machine_arn, lambda_context,
                                                                             load_event, monkeypatch, dies):
    start = repository.start_execution

    def start_then_die(name, payload):
        if dies == "after StartExecution":
            start(name, payload)
        raise WorkerKilled()

    monkeypatch.setattr(repository, "start_execution", start_then_die)
    lambda_context.remaining_time_in_millis = 0  # the dead invocation's in-progress record expires at once
    with pytest.raises(WorkerKilled):
        call(load_event("post_order_idempotent.json"), lambda_context)
    assert executions(state_machine_arn) == ([KEYED_ORDER_ID] if dies == "after StartExecution" else [])
    monkeypatch.setattr(repository, "start_execution", start)
    lambda_context.remaining_time_in_millis = 10_000
    status, body = call(load_event("post_order_idempotent.json"), lambda_context)  # the client retries
    assert (status, body["orderId"]) == (202, KEYED_ORDER_ID)
    assert body["executionArn"] == state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + KEYED_ORDER_ID
    assert executions(state_machine_arn) == [KEYED_ORDER_ID]
    assert call(load_event("post_order_idempotent.json"), lambda_context) == (status, body)


def test_retry_after_a_death_with_another_body_is_refused(aws, state_machine_arn, lambda_context, load_event,
                                                          monkeypatch):
    start = repository.start_execution

    def start_then_die(name, payload):
        start(name, payload)
        raise WorkerKilled()

    monkeypatch.setattr(repository, "start_execution", start_then_die)
    lambda_context.remaining_time_in_millis = 0
    with pytest.raises(WorkerKilled):
        call(load_event("post_order_idempotent.json"), lambda_context)
    monkeypatch.setattr(repository, "start_execution", start)
    event = load_event("post_order_idempotent.json")
    event["body"] = json.dumps({"customerId": "CUST-002", "items": [{"sku": "SKU-002", "quantity": 1}]})
    assert call(event, lambda_context) == (422, {
        "error": "UnprocessableEntity", "errorType": "IdempotencyKeyReusedError",
        "message": f"order {KEYED_ORDER_ID} was submitted with another body under this Idempotency-Key"})
    assert executions(state_machine_arn) == [KEYED_ORDER_ID]


def test_one_key_used_by_two_clients_makes_two_orders(aws, state_machine_arn, lambda_context, load_event):
    first = call(load_event("post_order_idempotent.json"), lambda_context)
    other = load_event("post_order_idempotent.json")
    other["requestContext"]["identity"]["apiKeyId"] = "another-client"
    second = call(other, lambda_context)
    assert first[0] == second[0] == 202 and first[1]["orderId"] != second[1]["orderId"]
    assert sorted(executions(state_machine_arn)) == sorted([first[1]["orderId"], second[1]["orderId"]])


def test_same_idempotency_key_with_another_body_is_refused(aws, state_machine_arn, lambda_context, load_event):
    call(load_event("post_order_idempotent.json"), lambda_context)
    event = load_event("post_order_idempotent.json")
    event["body"] = json.dumps({"customerId": "CUST-002", "items": [{"sku": "SKU-002", "quantity": 1}]})
    assert call(event, lambda_context) == (422, {
        "error": "UnprocessableEntity", "errorType": "IdempotencyKeyReusedError",
        "message": "the Idempotency-Key was used with a different request body"})


def test_approval_of_an_order_not_awaiting_approval_conflicts(aws, orders_table, lambda_context, load_event):
    orders_table.put_item(Item={"order_id": "ORDER-BIG-0001", "status": "PROCESSING"})
    assert call(load_event("post_approval.json"), lambda_context) == (409, {
        "error": "Conflict", "errorType": "ApprovalNotPendingError",
        "message": "order ORDER-BIG-0001 is PROCESSING, not AWAITING_APPROVAL"})


def test_approval_before_the_workflow_stored_the_order_conflicts(aws, state_machine_arn, lambda_context, load_event):
    post = load_event("post_order.json")
    call(post, lambda_context)
    approval = load_event("post_approval.json")
    approval["pathParameters"]["orderId"] = json.loads(post["body"])["orderId"]
    approval["path"] = approval["path"].replace("ORDER-BIG-0001", approval["pathParameters"]["orderId"])
    assert call(approval, lambda_context) == (409, {
        "error": "Conflict", "errorType": "ApprovalNotPendingError",
        "message": "order ORDER-EVENT-0001 is RECEIVED, not AWAITING_APPROVAL"})


def test_approval_of_an_unknown_order_is_404(aws, state_machine_arn, lambda_context, load_event):
    assert call(load_event("post_approval.json"), lambda_context) == (404, {
        "error": "NotFound", "errorType": "OrderNotFoundError", "message": "order ORDER-BIG-0001 not found"})


def with_key_of(event: dict, other: dict) -> dict:
    """``event`` sent with the API key (header and identity) of ``other``."""
    identity = other["requestContext"]["identity"]
    event["requestContext"]["identity"].update(apiKey=identity["apiKey"], apiKeyId=identity["apiKeyId"])
    event["headers"]["x-api-key"] = identity["apiKey"]
    return event


def test_a_clients_key_cannot_decide_an_approval(aws, orders_table, lambda_context, load_event):
    orders_table.put_item(Item={"order_id": "ORDER-BIG-0001", "status": "AWAITING_APPROVAL", "task_token": "t"})
    event = with_key_of(load_event("post_approval.json"), load_event("post_order.json"))
    assert call(event, lambda_context) == (403, {
        "error": "Forbidden", "errorType": "AccessDeniedError",
        "message": "deciding an approval needs the reviewers' API key"})
    assert orders_table.get_item(Key={"order_id": "ORDER-BIG-0001"})["Item"]["status"] == "AWAITING_APPROVAL"


def test_a_request_without_a_key_cannot_decide_an_approval(aws, orders_table, lambda_context, load_event):
    event = load_event("post_approval.json")
    event["requestContext"]["identity"].update(apiKey=None, apiKeyId=None)
    assert call(event, lambda_context)[0] == 403


def test_a_reviewers_key_cannot_place_orders(aws, state_machine_arn, lambda_context, load_event):
    event = with_key_of(load_event("post_order.json"), load_event("post_approval.json"))
    assert call(event, lambda_context) == (403, {
        "error": "Forbidden", "errorType": "AccessDeniedError", "message": "placing an order needs the clients' API key"})
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=state_machine_arn)["executions"]
    assert executions == []


def test_unknown_batch_is_404(aws, lambda_context, load_event):
    assert call(load_event("get_batch.json"), lambda_context) == (404, {
        "error": "NotFound", "errorType": "BatchNotFoundError", "message": "batch BATCH-SAMPLE-0001 not found"})


def test_post_customer_creates_an_active_customer_once(aws, lambda_context, load_event):
    status, body = call(load_event("post_customer.json"), lambda_context)
    assert status == 201
    assert {key: body[key] for key in ("customerId", "name", "email", "status", "paymentMethod")} == {
        "customerId": "CUST-EVENT-0001", "name": "Event Customer", "email": "event@example.com", "status": "ACTIVE",
        "paymentMethod": "tok_visa"}
    assert call(load_event("post_customer.json"), lambda_context) == (409, {
        "error": "Conflict", "errorType": "CustomerAlreadyExistsError",
        "message": "customer CUST-EVENT-0001 already exists"})


def test_get_reads_the_row_written_while_the_workflow_ended(aws, orders_table, state_machine_arn, lambda_context,
                                                           load_event, monkeypatch):
    """A rejection stores FAILED and then fails the execution: a GET that missed the row sees it on a second read."""
    from fulfillment import repository

    def workflow_ends_meanwhile(order_id):
        orders_table.put_item(Item={"order_id": order_id, "status": "FAILED",
                                    "reason": "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"})
        return "FAILED"

    monkeypatch.setattr(repository, "execution_status", workflow_ends_meanwhile)
    assert call(get(load_event, "ORDER-RACE"), lambda_context) == (200, {
        "orderId": "ORDER-RACE", "status": "FAILED",
        "reason": "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"})


def test_get_of_a_workflow_that_ended_without_storing_the_order(aws, state_machine_arn, lambda_context, load_event,
                                                                monkeypatch):
    from fulfillment import repository

    monkeypatch.setattr(repository, "execution_status", lambda order_id: "TIMED_OUT")
    assert call(get(load_event, "ORDER-LOST"), lambda_context) == (200, {
        "orderId": "ORDER-LOST", "status": "FAILED", "reason": "order workflow ended with status TIMED_OUT"})


# -- bad input ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "where"), [
    ('{"customerId": "CUST-\\ud800", "items": [{"sku": "SKU-001", "quantity": 1}]}', "$.customerId", ),
    ('{"customerId": "CUST-001", "items": [{"sku": "\\udfff", "quantity": 1}]}', "$.items[0].sku"),
    ('{"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}], "\\ud83d": 1}', "$ (a key)"),
])
def test_lone_surrogate_is_refused_before_anything_starts(aws, state_machine_arn, lambda_context, load_event,
                                                          body, where):
    # valid JSON, but no Unicode text: accepted, such an order failed States.Runtime later and was lost
    code = "\\" + ("ud800" if "ud800" in body else "udfff" if "udfff" in body else "ud83d")
    assert call(post(load_event, body), lambda_context) == (400, {
        "error": "BadRequest", "errorType": "InvalidRequestError",
        "message": f"{where} holds a lone surrogate ({code}): text must be valid Unicode"})
    assert executions(state_machine_arn) == []


def test_body_that_is_not_utf8_is_a_400(aws, state_machine_arn, lambda_context, load_event):
    event = post(load_event, "")
    event["body"] = base64.b64encode(b'{"customerId": "CUST-\xff", "items": []}').decode()
    event["isBase64Encoded"] = True
    assert call(event, lambda_context) == (400, {"error": "BadRequest", "errorType": "InvalidOrderError",
                                                 "message": "request body is not valid JSON"})


def test_error_messages_never_echo_unbounded_input(aws, state_machine_arn, lambda_context, load_event):
    long_id = "x" * 100_000
    status, body = call(get(load_event, long_id), lambda_context)
    assert (status, body["message"]) == (404, f"order {'x' * 64}... (100000 characters) not found")
    status, body = call(post(load_event, {"customerId": "CUST-001", "items": [
        {"sku": "S" * 50_000, "quantity": 1}, {"sku": "S" * 50_000, "quantity": 1}]}), lambda_context)
    assert (status, body["message"]) == (400, f"duplicate sku {'S' * 64}... (50000 characters)")
