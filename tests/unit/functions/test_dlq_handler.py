"""DlqHandler SQS consumer: failed_orders row + order FAILED, charge refunded and stock released; write errors
become batch item failures."""

import json

from fulfillment import idempotency
from fulfillment.tasks.payment import charge_payment
from fulfillment.tasks.reservation import reserve_inventory
from functions.dlq_handler import app
from tests.unit.functions.conftest import stock, stored

ORDER_ID = "ORDER-EVENT-0001"
REASON = "FulfillmentFailedError: fulfillment failed, message dead-lettered after 4 receives"


def test_dead_letter_is_recorded(aws, orders_table, failed_orders_table, stored_order, lambda_context, load_event):
    event = load_event("dlq_sqs.json")
    result = app.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": []}
    failed = failed_orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]
    assert json.loads(failed.pop("order")) == stored_order
    failed_at = failed.pop("failed_at")
    assert failed == {
        "order_id": ORDER_ID,
        "reason": REASON,
        "source": "FULFILLMENT",
        "receive_count": 4,
        "sent_at": "2025-11-22T09:00:01.000Z",
        "first_received_at": "2025-11-22T09:00:01.500Z",
        "message_id": event["Records"][0]["messageId"],
    }
    row = orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]
    assert (row["status"], row["reason"], row["failed_at"]) == ("FAILED", REASON, failed_at)


def test_dead_letter_refunds_the_charge_and_releases_the_stock_once(aws, orders_table, failed_orders_table,
                                                                   stored_order, lambda_context, load_event):
    before = {sku: stock(aws, sku) for sku in ("SKU-001", "SKU-002")}
    assert reserve_inventory(ORDER_ID, stored_order["items"])["status"] == "RESERVED"
    idempotency.register_lambda_context(lambda_context)  # as ChargePaymentFunction does before charging
    assert charge_payment(ORDER_ID, "CUST-001", 11597, 0)["status"] == "SUCCESS"
    assert {sku: stock(aws, sku) for sku in before} == {"SKU-001": before["SKU-001"] - 1,
                                                        "SKU-002": before["SKU-002"] - 2}
    refunds = []
    for _ in range(2):  # the second delivery repeats nothing
        assert app.lambda_handler(load_event("dlq_sqs.json"), lambda_context) == {"batchItemFailures": []}
        payment = stored(aws, "PaymentsTable", {"order_id": ORDER_ID})
        refunds.append(payment["refund_id"])
        assert payment["status"] == "REFUNDED" and refunds[0].startswith("re_") and refunds[-1] == refunds[0]
        assert {sku: stock(aws, sku) for sku in before} == before
        assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["reservation_status"] == "RELEASED"


def test_redelivery_is_idempotent(aws, orders_table, failed_orders_table, stored_order, lambda_context, load_event):
    app.lambda_handler(load_event("dlq_sqs.json"), lambda_context)
    result = app.lambda_handler(load_event("dlq_sqs.json"), lambda_context)
    assert result == {"batchItemFailures": []}
    assert failed_orders_table.scan()["Count"] == 1
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "FAILED"


def test_fulfilled_order_is_left_alone(aws, orders_table, failed_orders_table, stored_order, lambda_context,
                                       load_event):
    orders_table.update_item(Key={"order_id": ORDER_ID}, UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "FULFILLED"})
    result = app.lambda_handler(load_event("dlq_sqs.json"), lambda_context)
    assert result == {"batchItemFailures": []}
    assert orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]["status"] == "FULFILLED"
    assert failed_orders_table.scan()["Count"] == 0


def test_write_failure_becomes_batch_item_failure(aws, failed_orders_table, stored_order, lambda_context,
                                                  load_event):
    # GIVEN the failed_orders table is gone, so its put fails
    failed_orders_table.delete()
    event = load_event("dlq_sqs.json")
    # WHEN
    result = app.lambda_handler(event, lambda_context)
    # THEN the record is reported, not swallowed: SQS keeps the message
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_order_never_stored_is_recorded_failed(aws, orders_table, failed_orders_table, lambda_context, load_event):
    # an order the workflow handed over before StoreOrder ran (its failure path could not write the row)
    event = load_event("dlq_sqs.json")
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    row = orders_table.get_item(Key={"order_id": ORDER_ID})["Item"]
    assert (row["status"], row["reason"]) == ("FAILED", REASON)
    assert failed_orders_table.scan()["Count"] == 1
