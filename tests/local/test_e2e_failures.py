"""The app's failure paths on the local runtime: every order through the DLQ, and a hundred orders at the default
success rate. A file of its own so that it runs beside test_e2e.py on the other pytest worker.

``TIME_SCALE=0.01``: SQS visibility timeouts (6 x the consumer's timeout) pass in a fraction of a second.
"""
from collections import Counter

import pytest

from tests.local.test_e2e import place_many, valid_order
from tests.support.local_stack import LocalStack
from tests.support.orders import new_order_id, wait_terminal
from tests.support.polling import wait_until


@pytest.fixture(scope="module")
def never_fulfils(local_stack_factory):
    return local_stack_factory({"FulfillmentSuccessRate": "0"})


@pytest.fixture(scope="module")
def default_rate(local_stack_factory):
    return local_stack_factory({})


def queue_depth(stack: LocalStack, output_key: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs[output_key],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])



def test_success_rate_zero_sends_every_order_through_the_dlq(never_fulfils):
    api = never_fulfils.api()
    inventory = never_fulfils.table("InventoryTableName")
    stock_before = inventory.get_item(Key={"sku": "SKU-001"}, ConsistentRead=True)["Item"]["stock"]
    ids = [new_order_id("DLQ") for _ in range(10)]
    place_many(api, [valid_order(i) for i in ids])
    views = wait_terminal(api, ids, timeout=60, table=never_fulfils.table("OrdersTableName"))
    assert Counter(v["status"] for v in views.values()) == {"FAILED": 10}
    failed = never_fulfils.table("FailedOrdersTableName")
    for order_id in ids:
        row = failed.get_item(Key={"order_id": order_id})["Item"]
        assert row["source"] == "FULFILLMENT"
        # MaxReceiveCount defaults to 3: three failed receives on the queue, the fourth receive is the DLQ's
        # (moto, like SQS, keeps ApproximateReceiveCount when it moves a message to the DLQ)
        assert int(row["receive_count"]) == 4, row
        assert views[order_id]["reason"].startswith("FulfillmentFailedError")
        assert "PROCESSING" in views[order_id]["_seen"]
    # the DLQ handler marks the order FAILED, then refunds what the workflow charged and releases what it reserved
    payments = never_fulfils.table("PaymentsTableName")

    def given_back() -> bool:
        refunded = all(payments.get_item(Key={"order_id": i}, ConsistentRead=True)["Item"]["status"] == "REFUNDED"
                       for i in ids)
        return refunded and inventory.get_item(Key={"sku": "SKU-001"},
                                               ConsistentRead=True)["Item"]["stock"] == stock_before

    wait_until(given_back, 10, "charges not refunded or stock not released")
    wait_until(lambda: not (queue_depth(never_fulfils, "FulfillmentDlqUrl")
                            or queue_depth(never_fulfils, "FulfillmentQueueUrl")), 10, "queues not drained")
    assert queue_depth(never_fulfils, "FulfillmentDlqUrl") == 0
    assert queue_depth(never_fulfils, "FulfillmentQueueUrl") == 0


def test_hundred_orders_at_default_rate_each_end_in_exactly_one_terminal_state(default_rate):
    api = default_rate.api()
    inventory = default_rate.table("InventoryTableName")
    stock_before = inventory.get_item(Key={"sku": "SKU-001"}, ConsistentRead=True)["Item"]["stock"]
    ids = [new_order_id("MIX") for _ in range(100)]
    place_many(api, [valid_order(i) for i in ids])
    views = wait_terminal(api, ids, timeout=90, table=default_rate.table("OrdersTableName"))
    counts = Counter(v["status"] for v in views.values())
    assert counts["FULFILLED"] + counts["FAILED"] == 100
    # at 0.7 per attempt and 3 attempts, an order fails with probability 0.3**3 = 2.7 %: not all fail, not all pass
    assert counts["FULFILLED"] > 50
    orders = default_rate.table("OrdersTableName")
    failed_rows = default_rate.table("FailedOrdersTableName")
    for order_id, view in views.items():
        stored = orders.get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]
        assert stored["status"] == view["status"]
        has_row = "Item" in failed_rows.get_item(Key={"order_id": order_id})
        assert has_row == (view["status"] == "FAILED"), order_id
    # money and stock follow the status: a FULFILLED order is charged and holds its unit; a FAILED one neither
    payments = default_rate.table("PaymentsTableName")

    def settled() -> bool:
        for order_id, view in views.items():
            payment = payments.get_item(Key={"order_id": order_id}, ConsistentRead=True)["Item"]
            if payment["status"] != ("CHARGED" if view["status"] == "FULFILLED" else "REFUNDED"):
                return False
        stock = inventory.get_item(Key={"sku": "SKU-001"}, ConsistentRead=True)["Item"]["stock"]
        return stock == stock_before - counts["FULFILLED"]

    # the DLQ handler refunds and releases just after it marks an order FAILED
    wait_until(settled, 10, "a payment or the stock does not match the orders' statuses")
