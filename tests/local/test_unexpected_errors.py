"""Errors the order workflow does not name (a task timeout, a crashed Lambda, a queue that stays down) still end the
order in exactly one terminal state, FAILED, with whatever may have been charged or reserved given back.

The failures are injected with Step Functions Local's mock config (``mock_configs/unexpected_errors.json``, which
tests/conftest.py gives every test stack as ``SFN_MOCK_CONFIG``): only the named state is mocked, every other task
runs for real (the Lambdas, DynamoDB, SQS, SNS, EventBridge), so the compensations and the conditional writes are the
real ones.
"""
import json
from decimal import Decimal

import pytest

from tests.support.orders import new_order_id
from tests.support.polling import wait_execution


@pytest.fixture(scope="module")
def stack(local_stack_factory):
    return local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)


def run_case(stack, case: str, quantity: int = 1) -> tuple[str, dict]:
    order_id = new_order_id("UNX")
    order = {"order_id": order_id, "customer_id": "CUST-001", "items": [{"sku": "SKU-002", "quantity": quantity}],
             "received_at": "2026-12-03T12:00:00.000Z"}
    client = stack.client("stepfunctions")
    started = client.start_execution(stateMachineArn=f"{stack.outputs['OrderStateMachineArn']}#{case}",
                                     name=order_id, input=json.dumps({"order": order}))
    return order_id, wait_execution(client, started["executionArn"])


def stock(stack, sku: str) -> Decimal:
    return stack.table("InventoryTableName").get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]["stock"]


def rows(stack, order_id: str) -> tuple[dict | None, dict | None, dict | None]:
    def get(output_key):
        return stack.table(output_key).get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
    return get("OrdersTableName"), get("FailedOrdersTableName"), get("PaymentsTableName")


def test_validation_timeout_before_the_order_is_stored_records_it_failed(stack):
    order_id, described = run_case(stack, "ValidateTimesOut")
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    order, failed, payment = rows(stack, order_id)
    assert order["status"] == "FAILED"  # written by the failure path: the order never reached StoreOrder
    assert json.loads(order["reason"]) == {"Error": "States.Timeout", "Cause": ""}
    assert (failed["source"], failed["error"]) == ("WORKFLOW", "States.Timeout")
    assert payment is None


def test_crashed_reservation_refunds_the_charge_and_fails_the_order(stack):
    before = stock(stack, "SKU-002")
    order_id, described = run_case(stack, "ReserveCrashes", quantity=3)
    assert (described["status"], described["error"]) == ("FAILED", "Sandbox.Timedout")
    order, failed, payment = rows(stack, order_id)
    assert order["status"] == "FAILED" and order["customer_id"] == "CUST-001"  # stored, then failed
    assert failed["error"] == "Sandbox.Timedout"
    assert payment["status"] == "REFUNDED"  # ChargePayment ran for real; the refund is the compensation's
    assert stock(stack, "SKU-002") == before  # the reservation never ran; the release found nothing to give back


def test_queue_down_after_charge_and_reservation_gives_both_back(stack):
    before = stock(stack, "SKU-002")
    order_id, described = run_case(stack, "EnqueueFails", quantity=2)
    assert (described["status"], described["error"]) == ("FAILED", "SQS.AmazonSQSException")
    history = stack.client("stepfunctions").get_execution_history(executionArn=described["executionArn"],
                                                                 maxResults=1000)["events"]
    enqueue_attempts = [e for e in history if e["type"] == "TaskFailed"
                        and e["taskFailedEventDetails"]["error"] == "SQS.AmazonSQSException"]
    assert len(enqueue_attempts) == 4  # the first try and the 3 retries of States.TaskFailed
    order, failed, payment = rows(stack, order_id)
    assert order["status"] == "FAILED"
    assert payment["status"] == "REFUNDED"
    assert stock(stack, "SKU-002") == before  # reserved by ReserveInventory, released by the compensation
    assert failed["reason"].startswith('{"Error":"SQS.AmazonSQSException"')
