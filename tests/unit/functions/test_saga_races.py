"""The order saga under adverse timing: each race of issue 11, replayed step by step on a ``SteppedClock``.

The real order workflow runs on our engine in process (``workflow_stack``) with the real handlers and moto. A
``Gate`` holds one call (a Lambda invocation, or an SDK call of the workflow) at a chosen point; the test decides
when its task times out (``expire_work``: the task's TimeoutSeconds elapse while the call is held) and when the held
call goes on. Nothing depends on how fast the machine is: every interleaving is forced.

Races (found in execution histories of a 2,000-order run):
* late charge: ChargePayment times out while its Lambda runs on; the charge lands after the compensation;
* refunded but shipped: sqs:sendMessage times out after the message was delivered; the workflow compensates while
  the consumer fulfils the order;
* never finished: a write of the failure path times out (or keeps failing) and the order never ends.
"""

import json

import pytest
from botocore.exceptions import ClientError

from functions.dlq_handler import app as dlq_handler
from functions.fulfill_order import app as fulfill_order
from tests.support.polling import wait_until
from tests.unit.functions.conftest import TABLE_ENV, stock, stored
from tests.unit.functions.test_workflow_moto import build_stack, make_order
from tests.unit.functions.workflow_stack import Gate, SteppedClock, entered_states, task_events

ORDERS_TABLE = TABLE_ENV["OrdersTable"][1]
ITEMS = [{"sku": "SKU-002", "quantity": 1}]  # 1299 cents, no approval


@pytest.fixture
def stepped(aws, monkeypatch, template, lambda_context):
    monkeypatch.setenv("FULFILLMENT_SUCCESS_RATE", "1")
    return build_stack(monkeypatch, template, lambda_context, SteppedClock())


def failure_writes(gate_or_interceptor):
    """An interceptor of dynamodb update_item that applies ``gate_or_interceptor`` only to the write that marks an
    order FAILED (UpdateOrderFailed); every other update passes."""

    def intercept(proceed, params):
        values = params.get("ExpressionAttributeValues", {})
        if params.get("TableName") == ORDERS_TABLE and values.get(":failed") == {"S": "FAILED"}:
            return gate_or_interceptor(proceed, params)
        return proceed()

    return intercept


def to_queue(queue_url, interceptor):
    def intercept(proceed, params):
        return interceptor(proceed, params) if params.get("QueueUrl") == queue_url else proceed()

    return intercept


def wait_task(stack, arn, state, kind):
    wait_until(lambda: kind in [k for k, _ in task_events(stack.history(arn), state)], 10,
               f"{state} never had {kind}", 0.01)


def expire_held_call(stack, count=1):
    """Time out the one task call left in progress (the held one) once nothing else runs."""
    wait_until(lambda: stack.clock.work_waits() == count, 10, "other task calls still run", 0.01)
    stack.clock.expire_work()


def consume(stack, load_event, lambda_context, queue_url=None):
    """Deliver every message of the fulfillment queue to FulfillOrderFunction as the event source mapping does."""
    template = load_event("fulfill_order_sqs.json")["Records"][0]
    records = []
    for message in stack.sqs.receive_message(QueueUrl=queue_url or stack.queue_url, MaxNumberOfMessages=10,
                                             AttributeNames=["All"]).get("Messages", []):
        records.append({**template, "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"]})
    assert records, "no message in the queue"
    return fulfill_order.lambda_handler({"Records": records}, lambda_context), records


def order_rows(aws, order_id):
    return stored(aws, "OrdersTable", {"order_id": order_id}), stored(aws, "PaymentsTable", {"order_id": order_id})


# -- late charge ----------------------------------------------------------------------------------------------------


def test_charge_that_lands_after_the_order_failed_is_refused(stepped, aws):
    charge = Gate()
    stepped.lambdas.interceptors["ChargePaymentFunction"] = charge.hold
    arn = stepped.start("OrderStateMachine", "RACE-LATE-1", {"order": make_order("RACE-LATE-1", "CUST-001", ITEMS)})
    assert charge.reached.wait(10)
    wait_task(stepped, arn, "ReserveInventory", "TaskSucceeded")
    expire_held_call(stepped)  # ChargePayment's TimeoutSeconds run out while its Lambda is held
    described = stepped.drive(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    payload, function_error = charge.open()  # the Lambda runs on after its task timed out and the order FAILED
    assert function_error == "Unhandled"
    assert json.loads(payload)["errorType"] == "OrderStateConflictError"
    order, payment = order_rows(aws, "RACE-LATE-1")
    assert payment is None
    assert (order["status"], order.get("payment_status"), order["reservation_status"]) == (
        "FAILED", None, "RELEASED")
    assert stock(aws, "SKU-002") == 5000


def test_charge_that_lands_before_the_failure_decision_is_refunded(stepped, aws):
    charge, decision = Gate(), Gate()
    stepped.lambdas.interceptors["ChargePaymentFunction"] = charge.hold
    stepped.interceptors[("dynamodb", "update_item")] = failure_writes(decision.hold)
    arn = stepped.start("OrderStateMachine", "RACE-LATE-2", {"order": make_order("RACE-LATE-2", "CUST-001", ITEMS)})
    assert charge.reached.wait(10)
    wait_task(stepped, arn, "ReserveInventory", "TaskSucceeded")
    expire_held_call(stepped)
    assert decision.reached.wait(10)  # the workflow is about to decide FAILED
    payload, function_error = charge.open()  # the late charge lands first: the order is still PROCESSING
    assert function_error is None and json.loads(payload)["status"] == "SUCCESS"
    decision.open()
    described = stepped.drive(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    order, payment = order_rows(aws, "RACE-LATE-2")
    assert (payment["status"], payment["amount_cents"]) == ("REFUNDED", 1299)
    assert (order["status"], order["payment_status"], order["reservation_status"]) == (
        "FAILED", "REFUNDED", "RELEASED")
    assert stock(aws, "SKU-002") == 5000


# -- refunded but shipped -------------------------------------------------------------------------------------------


def test_consumer_that_fulfils_while_the_enqueue_answer_is_lost_keeps_the_charge(stepped, aws, load_event,
                                                                                 lambda_context):
    enqueue = Gate(before=False)  # the message is sent; its answer never reaches the workflow in time
    stepped.interceptors[("sqs", "send_message")] = to_queue(stepped.queue_url, enqueue.hold)
    arn = stepped.start("OrderStateMachine", "RACE-SHIP-1", {"order": make_order("RACE-SHIP-1", "CUST-001", ITEMS)})
    assert enqueue.reached.wait(10)
    result, _ = consume(stepped, load_event, lambda_context)
    assert result == {"batchItemFailures": []}
    expire_held_call(stepped)
    described = stepped.drive(arn)
    enqueue.open()
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["status"] == "FULFILLED"
    order, payment = order_rows(aws, "RACE-SHIP-1")
    assert (order["status"], order["payment_status"], order["reservation_status"]) == (
        "FULFILLED", "CHARGED", "RESERVED")
    assert payment["status"] == "CHARGED"
    assert stock(aws, "SKU-002") == 4999
    assert "RefundPayment" not in entered_states(stepped.history(arn))


def test_consumer_that_fulfils_while_the_failure_decision_is_in_flight_wins(stepped, aws, load_event,
                                                                            lambda_context):
    enqueue, decision = Gate(before=False), Gate()
    stepped.interceptors[("sqs", "send_message")] = to_queue(stepped.queue_url, enqueue.hold)
    stepped.interceptors[("dynamodb", "update_item")] = failure_writes(decision.hold)
    arn = stepped.start("OrderStateMachine", "RACE-SHIP-2", {"order": make_order("RACE-SHIP-2", "CUST-001", ITEMS)})
    assert enqueue.reached.wait(10)
    expire_held_call(stepped)
    assert decision.reached.wait(10)
    result, _ = consume(stepped, load_event, lambda_context)  # the consumer's FULFILLED lands first
    assert result == {"batchItemFailures": []}
    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        decision.open()  # the FAILED decision is refused: the order is FULFILLED
    described = stepped.drive(arn)
    enqueue.open()
    assert described["status"] == "SUCCEEDED", described
    order, payment = order_rows(aws, "RACE-SHIP-2")
    assert (order["status"], order["payment_status"], order["reservation_status"]) == (
        "FULFILLED", "CHARGED", "RESERVED")
    assert payment["status"] == "CHARGED"
    assert stock(aws, "SKU-002") == 4999


def test_consumer_after_the_failure_decision_drops_the_message(stepped, aws, load_event, lambda_context):
    enqueue = Gate(before=False)
    stepped.interceptors[("sqs", "send_message")] = to_queue(stepped.queue_url, enqueue.hold)
    arn = stepped.start("OrderStateMachine", "RACE-SHIP-3", {"order": make_order("RACE-SHIP-3", "CUST-001", ITEMS)})
    assert enqueue.reached.wait(10)
    expire_held_call(stepped)
    described = stepped.drive(arn)
    enqueue.open()
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    result, _ = consume(stepped, load_event, lambda_context)  # delivered anyway: the order is FAILED, acknowledge
    assert result == {"batchItemFailures": []}
    order, payment = order_rows(aws, "RACE-SHIP-3")
    assert (order["status"], order["payment_status"], order["reservation_status"]) == (
        "FAILED", "REFUNDED", "RELEASED")
    assert payment["status"] == "REFUNDED"
    assert stock(aws, "SKU-002") == 5000


# -- never finished -------------------------------------------------------------------------------------------------


def test_failure_decision_that_times_out_is_retried(stepped, aws):
    def lost():
        raise ClientError({"Error": {"Code": "RequestTimeout", "Message": "lost"}}, "UpdateItem")

    decision = Gate(then=lost)  # the first FAILED write hangs, then is lost
    stepped.interceptors[("dynamodb", "update_item")] = failure_writes(decision.hold)
    order = make_order("RACE-NEVER-1", "CUST-004", ITEMS)  # a declined card: the failure path runs
    arn = stepped.start("OrderStateMachine", "RACE-NEVER-1", {"order": order})
    assert decision.reached.wait(10)
    expire_held_call(stepped)
    described = stepped.drive(arn)
    with pytest.raises(ClientError):
        decision.open()
    assert (described["status"], described["error"]) == ("FAILED", "PaymentFailed")
    row, _ = order_rows(aws, "RACE-NEVER-1")
    assert (row["status"], row["reservation_status"]) == ("FAILED", "RELEASED")
    assert stock(aws, "SKU-002") == 5000
    kinds = [kind for kind, _ in task_events(stepped.history(arn), "UpdateOrderFailed")]
    assert kinds == ["TaskScheduled", "TaskStarted", "TaskTimedOut", "TaskScheduled", "TaskStarted",
                     "TaskSucceeded"]


def test_failure_decision_that_keeps_failing_hands_the_order_to_the_dlq_handler(stepped, aws, lambda_context,
                                                                                load_event):
    def unavailable(proceed, params):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "UpdateItem")

    stepped.interceptors[("dynamodb", "update_item")] = failure_writes(unavailable)
    arn = stepped.start("OrderStateMachine", "RACE-NEVER-2",
                        {"order": make_order("RACE-NEVER-2", "CUST-004", ITEMS)})
    described = stepped.drive(arn)
    assert (described["status"], described["error"]) == ("FAILED", "PaymentFailed")
    attempts = [kind for kind, _ in task_events(stepped.history(arn), "UpdateOrderFailed") if kind == "TaskFailed"]
    assert len(attempts) == 7  # the first attempt and 6 retries
    assert entered_states(stepped.history(arn))[-2:] == ["HandOffToDlq", "OrderFailed"]
    row, _ = order_rows(aws, "RACE-NEVER-2")
    assert row["status"] == "PROCESSING"  # the workflow could not write it; the DLQ handler will
    template = load_event("dlq_sqs.json")["Records"][0]
    messages = stepped.sqs.receive_message(QueueUrl=stepped.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["failure"]["error"] for m in messages] == ["PaymentFailed"]
    event = {"Records": [{**template, "messageId": m["MessageId"], "body": m["Body"]} for m in messages]}
    assert dlq_handler.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    row, _ = order_rows(aws, "RACE-NEVER-2")
    assert (row["status"], row["reservation_status"]) == ("FAILED", "RELEASED")
    assert row["reason"] == "PaymentFailedError: card declined for 1299 cents"
    assert stored(aws, "FailedOrdersTable", {"order_id": "RACE-NEVER-2"})["source"] == "WORKFLOW"
    assert stock(aws, "SKU-002") == 5000


def test_rejection_whose_write_landed_but_timed_out_still_ends_the_order(stepped, aws):
    record = Gate(before=False)  # MarkOrderFailed's row is written; its answer is lost

    def mark_order_failed(proceed, params):
        return record.hold(proceed) if params.get("TableName") == ORDERS_TABLE else proceed()

    stepped.interceptors[("dynamodb", "put_item")] = mark_order_failed
    arn = stepped.start("OrderStateMachine", "RACE-NEVER-3",
                        {"order": make_order("RACE-NEVER-3", "CUST-003", ITEMS)})
    assert record.reached.wait(10)
    expire_held_call(stepped)
    described = stepped.drive(arn)
    record.open()
    assert (described["status"], described["error"]) == ("FAILED", "OrderRejected")
    assert stored(aws, "OrdersTable", {"order_id": "RACE-NEVER-3"})["status"] == "FAILED"
    assert stepped.notifications_of("CustomerTopic") == [
        "Order RACE-NEVER-3 failed: CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"]
