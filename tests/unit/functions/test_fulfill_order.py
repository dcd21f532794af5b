"""FulfillOrder SQS consumer: failures are batch item failures (never swallowed), success marks FULFILLED."""

import json
import re

import pytest

from fulfillment.errors import ConfigurationError
from functions.fulfill_order import app

ORDER_ID = "ORDER-EVENT-0001"


def two_record_event(load_event, enqueued_order, orders_table):
    event = load_event("fulfill_order_sqs.json")
    second = json.loads(json.dumps(event["Records"][0]))
    second["messageId"] = "second-message"
    body = {"order": {**enqueued_order, "order_id": "ORDER-EVENT-0002"}}
    second["body"] = json.dumps(body)
    orders_table.put_item(Item={**body["order"], "status": "PROCESSING", "payment_status": "CHARGED",
                                "reservation_status": "RESERVED", "created_at": "t0", "updated_at": "t0"})
    event["Records"].append(second)
    return event


def test_rate_zero_fails_every_record_and_leaves_processing(aws, orders_table, enqueued_order, lambda_context,
                                                            load_event, monkeypatch):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "0")
    event = two_record_event(load_event, enqueued_order, orders_table)
    result = app.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [
        {"itemIdentifier": event["Records"][0]["messageId"]},
        {"itemIdentifier": "second-message"},
    ]}
    for order_id in (ORDER_ID, "ORDER-EVENT-0002"):
        assert orders_table.get_item(Key={"order_id": order_id})["Item"]["status"] == "PROCESSING"


def test_rate_one_marks_fulfilled(aws, orders_table, enqueued_order, lambda_context, load_event, monkeypatch):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    result = app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context)
    assert result == {"batchItemFailures": []}
    row = orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]
    assert row["status"] == "FULFILLED"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["fulfilled_at"])
    assert row["updated_at"] != "t0"


def test_duplicate_delivery_is_harmless(aws, orders_table, enqueued_order, lambda_context, load_event, monkeypatch):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context)
    fulfilled = orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]
    result = app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context)
    assert result == {"batchItemFailures": []}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"] == fulfilled


def test_only_failed_records_are_reported(aws, orders_table, enqueued_order, lambda_context, load_event, monkeypatch):
    # GIVEN one record whose order is missing from the table and one that is stored
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    event = two_record_event(load_event, enqueued_order, orders_table)
    orders_table.delete_item(Key={"order_id": "ORDER-EVENT-0002"})
    result = app.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "second-message"}]}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "FULFILLED"


def test_failed_order_is_not_fulfilled_and_its_message_is_done(aws, orders_table, enqueued_order, lambda_context,
                                                               load_event, monkeypatch, bus_events):
    # the workflow decided FAILED (its enqueue timed out after the message was sent): nothing to ship, no retry
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    orders_table.update_item(Key={"order_id": ORDER_ID}, UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "FAILED"})
    result = app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context)
    assert result == {"batchItemFailures": []}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "FAILED"
    assert bus_events() == []


@pytest.mark.parametrize(("payment", "reservation"), [(None, "RESERVED"), ("CHARGED", None),
                                                      ("REFUNDED", "RESERVED"), ("CHARGED", "RELEASED")])
def test_order_without_its_charge_and_stock_is_never_fulfilled(aws, orders_table, stored_order, lambda_context,
                                                               load_event, monkeypatch, payment, reservation):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    fields = {"payment_status": payment, "reservation_status": reservation}
    orders_table.update_item(
        Key={"order_id": ORDER_ID},
        UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name, value in fields.items() if value),
        ExpressionAttributeValues={f":{name}": value for name, value in fields.items() if value})
    event = load_event("fulfill_order_sqs.json")
    assert app.lambda_handler(event, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "PROCESSING"


@pytest.mark.parametrize("value", ["", "1.5", "often"])
def test_bad_success_rate_fails_loudly(aws, enqueued_order, value, monkeypatch):
    from fulfillment.consumers.fulfillment_queue import fulfill_order

    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", value)
    with pytest.raises(ConfigurationError) as caught:
        fulfill_order(enqueued_order)
    assert "FULFILLMENT_SUCCESS_RATE" in str(caught.value)


def test_duplicate_delivery_after_success_publishes_one_order_fulfilled(aws, orders_table, enqueued_order,
                                                                         lambda_context, load_event, monkeypatch,
                                                                         bus_events):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    event = load_event("fulfill_order_sqs.json")
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context) == {"batchItemFailures": []}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "FULFILLED"
    assert bus_events() == [("OrderFulfilled", {"order_id": ORDER_ID, "customer_id": enqueued_order["customer_id"],
                                                "total_cents": enqueued_order["total_cents"]})]


def test_in_progress_record_expires_with_the_invocation(aws, orders_table, enqueued_order, lambda_context, load_event,
                                                         monkeypatch):
    import time

    import boto3

    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    started_ms = time.time() * 1000
    app.lambda_handler(load_event("fulfill_order_sqs.json"), lambda_context)

    records = [item for item in boto3.resource("dynamodb").Table("dofs-test-idempotency").scan()["Items"]
               if item["id"].startswith("dofs.fulfil")]
    assert len(records) == 1
    # Powertools sets it from the registered context: now + the invocation's remaining time (10 s here)
    expires_ms = int(records[0]["in_progress_expiration"])
    assert started_ms + 9_000 <= expires_ms <= time.time() * 1000 + lambda_context.remaining_time_in_millis
