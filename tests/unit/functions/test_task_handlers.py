"""Task handlers of the workflows: charge/refund, reserve/release, request approval, batch report, price quote;
and the customers stream consumer. moto in process, sockets off; events from events/."""

import pytest

from fulfillment import payments, repository
from fulfillment.errors import (
    InsufficientStockError,
    OrderStateConflictError,
    PaymentFailedError,
    PaymentGatewayTimeout,
    PaymentProcessingError,
)
from functions.batch_report import app as batch_report
from functions.charge_payment import app as charge_payment
from functions.customer_events import app as customer_events
from functions.price_quote import app as price_quote
from functions.refund_payment import app as refund_payment
from functions.release_inventory import app as release_inventory
from functions.request_approval import app as request_approval
from functions.reserve_inventory import app as reserve_inventory
from tests.unit.functions.conftest import TABLE_ENV, stock


def table(aws, logical_id):
    return aws.Table(TABLE_ENV[logical_id][1])


# -- ChargePayment -------------------------------------------------------------------------------------------------


def fail(order_id: str = "ORDER-EVENT-0001") -> None:
    """The workflow's failure decision (UpdateOrderFailed does the same write)."""
    assert repository.transition_order(order_id, "fail", "t9", reason="test", failed_at="t9")


def order_row(aws, order_id: str = "ORDER-EVENT-0001") -> dict:
    return table(aws, "OrdersTable").get_item(Key={"order_id": order_id})["Item"]


def test_charge_records_one_payment_and_a_redelivery_returns_the_same_charge(aws, stored_order, load_event,
                                                                             lambda_context):
    event = load_event("charge_payment.json")
    first = charge_payment.lambda_handler(event, lambda_context)
    second = charge_payment.lambda_handler({**event, "attempt": 1}, lambda_context)
    assert first == second
    assert (first["order_id"], first["status"], first["amount_cents"], first["charge_id"][:3]) == (
        "ORDER-EVENT-0001", "SUCCESS", 11597, "ch_")
    rows = table(aws, "PaymentsTable").scan()["Items"]
    assert [(row["order_id"], row["charge_id"], row["status"]) for row in rows] == [
        ("ORDER-EVENT-0001", first["charge_id"], "CHARGED")]
    assert (order_row(aws)["payment_status"], order_row(aws)["charge_id"]) == ("CHARGED", first["charge_id"])


def test_charge_of_an_order_decided_failed_is_refused_and_records_nothing(aws, stored_order, load_event,
                                                                           lambda_context):
    fail()
    with pytest.raises(OrderStateConflictError) as caught:
        charge_payment.lambda_handler(load_event("charge_payment.json"), lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 is FAILED (payment None): charge refused"
    assert table(aws, "PaymentsTable").scan()["Items"] == []
    assert "payment_status" not in order_row(aws)


def test_charge_that_loses_the_race_to_the_failure_decision_records_nothing(aws, stored_order, load_event,
                                                                            lambda_context, monkeypatch):
    # the order is still PROCESSING when the charge reads it, FAILED when the charge writes: the transaction refuses
    authorize = payments.authorize

    def authorize_then_fail(*args):
        charge_id = authorize(*args)
        fail()
        return charge_id

    monkeypatch.setattr(payments, "authorize", authorize_then_fail)
    with pytest.raises(OrderStateConflictError):
        charge_payment.lambda_handler(load_event("charge_payment.json"), lambda_context)
    assert table(aws, "PaymentsTable").scan()["Items"] == []
    assert (order_row(aws)["status"], order_row(aws).get("payment_status")) == ("FAILED", None)


@pytest.mark.parametrize(("customer_id", "attempt", "error", "message"), [
    ("CUST-004", 0, PaymentFailedError, "card declined for 11597 cents"),
    ("CUST-005", 0, PaymentGatewayTimeout, "payment gateway did not answer in time"),
    ("CUST-006", 2, PaymentProcessingError, "payment gateway unavailable (attempt 3)"),
])
def test_charge_raises_the_gateway_error_and_records_nothing(aws, stored_order, load_event, lambda_context,
                                                             customer_id, attempt, error, message):
    event = {**load_event("charge_payment.json"), "customer_id": customer_id, "attempt": attempt}
    with pytest.raises(error) as caught:
        charge_payment.lambda_handler(event, lambda_context)
    assert str(caught.value) == message
    assert table(aws, "PaymentsTable").scan()["Items"] == []
    assert "payment_status" not in order_row(aws)


def test_charge_after_a_gateway_timeout_succeeds_on_the_retry(aws, stored_order, load_event, lambda_context):
    event = {**load_event("charge_payment.json"), "customer_id": "CUST-005"}
    with pytest.raises(PaymentGatewayTimeout):
        charge_payment.lambda_handler(event, lambda_context)
    result = charge_payment.lambda_handler({**event, "attempt": 1}, lambda_context)
    assert result["status"] == "SUCCESS"
    assert table(aws, "PaymentsTable").get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]["status"] == "CHARGED"


# -- RefundPayment -------------------------------------------------------------------------------------------------


def test_refund_of_a_failed_order_happens_once(aws, stored_order, load_event, lambda_context):
    charged = charge_payment.lambda_handler(load_event("charge_payment.json"), lambda_context)
    fail()
    first = refund_payment.lambda_handler(load_event("refund_payment.json"), lambda_context)
    second = refund_payment.lambda_handler(load_event("refund_payment.json"), lambda_context)
    assert first == second
    assert (first["status"], first["refund_id"][:3]) == ("REFUNDED", "re_")
    row = table(aws, "PaymentsTable").get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]
    assert (row["status"], row["charge_id"], row["refund_id"]) == ("REFUNDED", charged["charge_id"],
                                                                  first["refund_id"])
    assert order_row(aws)["payment_status"] == "REFUNDED"


@pytest.mark.parametrize("status", ["PROCESSING", "FULFILLED"])
def test_refund_of_an_order_not_failed_is_refused(aws, stored_order, load_event, lambda_context, orders_table,
                                                  status):
    charge_payment.lambda_handler(load_event("charge_payment.json"), lambda_context)
    orders_table.update_item(Key={"order_id": "ORDER-EVENT-0001"}, UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": status})
    with pytest.raises(OrderStateConflictError) as caught:
        refund_payment.lambda_handler(load_event("refund_payment.json"), lambda_context)
    assert str(caught.value) == f"order ORDER-EVENT-0001 is {status}: refund refused"
    assert table(aws, "PaymentsTable").get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]["status"] == "CHARGED"
    assert order_row(aws)["payment_status"] == "CHARGED"


def test_refund_without_a_charge_does_nothing(aws, load_event, lambda_context):
    assert refund_payment.lambda_handler(load_event("refund_payment.json"), lambda_context) == {
        "order_id": "ORDER-EVENT-0001", "status": "NOT_CHARGED", "refund_id": None}


# -- ReserveInventory / ReleaseInventory ------------------------------------------------------------------------------


def test_reserve_takes_stock_once_and_release_gives_it_back_once(aws, stored_order, load_event, lambda_context):
    reserve = load_event("reserve_inventory.json")
    assert reserve_inventory.lambda_handler(reserve, lambda_context) == {"order_id": "ORDER-EVENT-0001",
                                                                        "status": "RESERVED"}
    assert reserve_inventory.lambda_handler(reserve, lambda_context)["status"] == "RESERVED"  # redelivery
    assert (stock(aws, "SKU-001"), stock(aws, "SKU-002")) == (999, 4998)
    release = load_event("release_inventory.json")
    with pytest.raises(OrderStateConflictError) as caught:  # the order is PROCESSING: it keeps its stock
        release_inventory.lambda_handler(release, lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 is PROCESSING: release refused"
    fail()
    assert release_inventory.lambda_handler(release, lambda_context) == {"order_id": "ORDER-EVENT-0001",
                                                                        "status": "RELEASED"}
    assert release_inventory.lambda_handler(release, lambda_context)["status"] == "RELEASED"
    assert (stock(aws, "SKU-001"), stock(aws, "SKU-002")) == (1000, 5000)
    with pytest.raises(OrderStateConflictError) as caught:
        reserve_inventory.lambda_handler(reserve, lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 is FAILED (reservation RELEASED): reservation refused"


def test_reservation_that_arrives_after_the_failure_decision_takes_nothing(aws, stored_order, load_event,
                                                                           lambda_context):
    fail()
    with pytest.raises(OrderStateConflictError) as caught:
        reserve_inventory.lambda_handler(load_event("reserve_inventory.json"), lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 is FAILED (reservation None): reservation refused"
    assert (stock(aws, "SKU-001"), stock(aws, "SKU-002")) == (1000, 5000)


def test_reserve_without_enough_stock_takes_nothing(aws, stored_order, lambda_context):
    event = {"order_id": "ORDER-EVENT-0001", "items": [{"sku": "SKU-002", "quantity": 2},
                                                       {"sku": "SKU-003", "quantity": 6}]}
    with pytest.raises(InsufficientStockError) as caught:
        reserve_inventory.lambda_handler(event, lambda_context)
    assert str(caught.value) == "sku SKU-003: 6 requested, 5 in stock"
    assert (stock(aws, "SKU-002"), stock(aws, "SKU-003")) == (5000, 5)
    assert "reservation_status" not in table(aws, "OrdersTable").get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]


def test_release_of_an_order_never_reserved_changes_nothing(aws, stored_order, load_event, lambda_context):
    fail()
    assert release_inventory.lambda_handler(load_event("release_inventory.json"), lambda_context) == {
        "order_id": "ORDER-EVENT-0001", "status": "NOT_RESERVED"}
    assert stock(aws, "SKU-001") == 1000


# -- RequestApproval -------------------------------------------------------------------------------------------------


def test_request_approval_records_the_token(aws, stored_order, load_event, lambda_context):
    event = load_event("request_approval.json")
    assert request_approval.lambda_handler(event, lambda_context) == {"order_id": "ORDER-EVENT-0001",
                                                                     "status": "AWAITING_APPROVAL"}
    row = table(aws, "OrdersTable").get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]
    assert (row["status"], row["task_token"]) == ("AWAITING_APPROVAL", event["task_token"])


def test_request_approval_of_a_failed_order_conflicts(aws, stored_order, load_event, lambda_context):
    table(aws, "OrdersTable").update_item(Key={"order_id": "ORDER-EVENT-0001"}, UpdateExpression="SET #s = :f",
                                          ExpressionAttributeNames={"#s": "status"},
                                          ExpressionAttributeValues={":f": "FAILED"})
    with pytest.raises(OrderStateConflictError) as caught:
        request_approval.lambda_handler(load_event("request_approval.json"), lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 is FAILED, cannot await approval"


# -- ReportBatch / PriceQuote ------------------------------------------------------------------------------------------


def test_batch_report_counts_outcomes_and_stores_them(aws, load_event, lambda_context):
    table(aws, "BatchesTable").put_item(Item={"batch_id": "BATCH-EVENT-0001", "status": "RUNNING", "total": 3})
    assert batch_report.lambda_handler(load_event("batch_report.json"), lambda_context) == {
        "batch_id": "BATCH-EVENT-0001", "status": "COMPLETED", "total": 3,
        "counts": {"ACCEPTED": 1, "OrderRejected": 1, "PaymentFailed": 1}}
    row = table(aws, "BatchesTable").get_item(Key={"batch_id": "BATCH-EVENT-0001"})["Item"]
    assert (row["status"], row["total"], row["counts"], row["results"]) == (
        "COMPLETED", 3, {"ACCEPTED": 1, "OrderRejected": 1, "PaymentFailed": 1},
        [{"order_id": "BATCH-EVENT-0001-1", "outcome": "ACCEPTED"},
         {"order_id": "BATCH-EVENT-0001-2", "outcome": "OrderRejected"},
         {"order_id": "BATCH-EVENT-0001-3", "outcome": "PaymentFailed"}])


def test_price_quote_totals_known_lines_and_lists_what_is_unavailable(load_event, lambda_context):
    assert price_quote.lambda_handler(load_event("price_quote.json"), lambda_context) == {
        "items": [
            {"sku": "SKU-001", "quantity": 2, "known": True, "unit_price_cents": 8999, "line_total_cents": 17998,
             "in_stock": True},
            {"sku": "SKU-003", "quantity": 6, "known": True, "unit_price_cents": 32999, "line_total_cents": 197994,
             "in_stock": False},
            {"sku": "SKU-999", "quantity": 1, "known": False}],
        "total_cents": 215992, "available": False,
        "unavailable": [{"sku": "SKU-003", "reason": "INSUFFICIENT_STOCK"}, {"sku": "SKU-999", "reason": "UNKNOWN_SKU"}]}


# -- customers stream -> EventBridge ----------------------------------------------------------------------------------


def test_inserted_customer_becomes_one_customer_created_event(aws, bus_events, load_event, lambda_context):
    assert customer_events.lambda_handler(load_event("customer_stream.json"), lambda_context) == {
        "batchItemFailures": []}
    assert bus_events() == [("CustomerCreated", {"customer_id": "CUST-EVENT-0001", "name": "Event Customer",
                                                 "email": "event@example.com", "status": "ACTIVE"})]


def test_a_put_that_fails_is_a_batch_item_failure(aws, load_event, lambda_context, monkeypatch):
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    event = load_event("customer_stream.json")
    result = customer_events.lambda_handler(event, lambda_context)
    # the INSERT failed (its sequence number is reported); the MODIFY is ignored, not failed
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
