"""The order, batch and quote workflows run by our Step Functions engine in process (``workflow_stack``): the ASL
rendered from the template, Lambda tasks answered by the real handlers, moto as the data plane. Each test asserts
the path taken from the execution history: states entered, attempts and their intervals on a virtual clock, which
catcher fired."""

import json
import threading

import pytest

from fulfillment import repository
from fulfillment.observability import metrics
from functions.api_handler import app as api
from local_runtime.stepfunctions import VirtualClock
from tests.unit.functions.conftest import EVENT_BUS_NAME, TABLE_ENV, stock, stored
from tests.support.polling import wait_until
from tests.unit.functions.workflow_stack import WorkflowStack, entered_states, install, task_events

BIG_ORDER_ITEMS = [{"sku": "SKU-001", "quantity": 12}]  # 107988 cents, above the default ApprovalThreshold


def make_order(order_id, customer_id, items):
    return {"order_id": order_id, "customer_id": customer_id, "items": items,
            "received_at": "2025-11-22T09:00:00.000Z"}


def build_stack(monkeypatch, template, lambda_context, clock, parameters=None):
    tables = {logical_id: name for logical_id, (_, name) in TABLE_ENV.items()}
    stack = WorkflowStack(template, lambda_context, clock, parameters or {}, tables, EVENT_BUS_NAME)
    install(monkeypatch, stack, {})
    repository.reset_clients()
    return stack


@pytest.fixture
def workflow(aws, monkeypatch, template, lambda_context):
    """Virtual time that jumps ahead at once: retries and waits cost no real time (a task call gets 15 real
    seconds before its TimeoutSeconds jumps in)."""
    return build_stack(monkeypatch, template, lambda_context, VirtualClock(auto_advance=True, work_grace=15.0))


@pytest.fixture
def manual_workflow(aws, monkeypatch, template, lambda_context):
    """Virtual time that moves only when the test advances it (callbacks wait for an answer)."""
    return build_stack(monkeypatch, template, lambda_context, VirtualClock())


# the failure path: decide FAILED, then give back (refund and release side by side), record, notify
FAILURE_TAIL = ["UpdateOrderFailed", "CompensateFailedOrder", "RefundPayment", "ReleaseInventory",
                "RecordWorkflowFailure", "NotifyOrderFailed", "PublishOrderFailed", "OrderFailed"]


def in_branch_order(path):
    """The states entered, the two compensation branches (concurrent) in a fixed order."""
    path = list(path)
    if "CompensateFailedOrder" in path:
        at = path.index("CompensateFailedOrder") + 1
        path[at:at + 2] = sorted(path[at:at + 2], key=["RefundPayment", "ReleaseInventory"].index)
    return path


def run_order(stack, order):
    arn = stack.start("OrderStateMachine", order["order_id"], {"order": order})
    return arn, stack.wait(arn)


def api_call(load_event, lambda_context, method, path, body=None, headers=None, path_parameters=None):
    # approvals carry the reviewers' API key (events/post_approval.json), other requests a client's
    template = "post_approval.json" if path.endswith("/approval") else "post_order.json"
    event = load_event(template if method == "POST" else "get_order.json")
    event["httpMethod"], event["path"] = method, path
    event["resource"] = path
    event["requestContext"]["resourcePath"] = path
    event["pathParameters"] = path_parameters
    event["body"] = None if body is None else json.dumps(body)
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    response = api.lambda_handler(event, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def wait_for_status(aws, order_id, status, timeout=10.0):
    return wait_until(lambda: stored(aws, "OrdersTable", {"order_id": order_id}), timeout,
                      lambda row: f"order {order_id} never reached {status}: {row}", 0.02,
                      accept=lambda row: row is not None and row["status"] == status)


# -- core flow -------------------------------------------------------------------------------------------------


def test_valid_order_is_stored_charged_reserved_and_enqueued(workflow, aws, bus_events):
    arn, described = run_order(workflow, make_order("WF-OK", "CUST-001", [{"sku": "SKU-001", "quantity": 2}]))
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert (output["order_id"], output["status"], output["total_cents"]) == ("WF-OK", "ACCEPTED", 17998)
    path = entered_states(workflow.history(arn))
    assert path[:5] == ["ValidateOrder", "StoreOrder", "PublishOrderPlaced", "LoadApprovalPolicy",
                        "CheckApprovalNeeded"]
    assert path[5] == "ChargeAndReserve" and sorted(path[6:8]) == ["ChargePayment", "ReserveInventory"]
    assert path[8:] == ["CheckResults", "EnqueueFulfillment", "NotifyOrderConfirmed", "SummarizeOrder",
                        "OrderAccepted"]
    row = stored(aws, "OrdersTable", {"order_id": "WF-OK"})
    assert (row["status"], row["total_cents"], row["reservation_status"]) == ("PROCESSING", 17998, "RESERVED")
    payment = stored(aws, "PaymentsTable", {"order_id": "WF-OK"})
    assert (payment["status"], payment["amount_cents"], payment["charge_id"]) == (
        "CHARGED", 17998, output["charge_id"])
    assert stock(aws, "SKU-001") == 998
    assert [json.loads(body) for body in workflow.messages(workflow.queue_url)] == [{"order": {
        "order_id": "WF-OK", "customer_id": "CUST-001",
        "items": [{"sku": "SKU-001", "quantity": 2, "unit_price_cents": 8999}],
        "total_cents": 17998, "received_at": "2025-11-22T09:00:00.000Z"}}]
    assert workflow.notifications_of("CustomerTopic") == [
        f"Order WF-OK confirmed: 17998 cents charged ({output['charge_id']}); fulfillment is queued."]
    assert bus_events() == [("OrderPlaced", {"order_id": "WF-OK", "customer_id": "CUST-001", "total_cents": 17998,
                                             "execution_arn": arn})]


@pytest.mark.parametrize(("customer_id", "items", "reason"), [
    ("CUST-003", [{"sku": "SKU-001", "quantity": 1}],
     "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"),
    ("CUST-001", [{"sku": "SKU-004", "quantity": 1}], "InsufficientStockError: sku SKU-004: 1 requested, 0 in stock"),
    ("CUST-404", [{"sku": "SKU-001", "quantity": 1}], "CustomerNotFoundError: customer CUST-404 does not exist"),
])
def test_rejection_is_recorded_notified_and_published(workflow, aws, bus_events, customer_id, items, reason):
    order = make_order("WF-BAD", customer_id, items)
    arn, described = run_order(workflow, order)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "OrderRejected", reason)
    history = workflow.history(arn)
    assert entered_states(history) == ["ValidateOrder", "DescribeRejection", "DescribeRejectionFailure",
                                       "RecordRejection", "MarkOrderFailed", "NotifyOrderFailed",
                                       "PublishOrderFailed", "OrderFailed"]
    assert [name for name, _ in workflow.lambdas.calls] == ["ValidateOrderFunction"]
    row = stored(aws, "OrdersTable", {"order_id": "WF-BAD"})
    failed = stored(aws, "FailedOrdersTable", {"order_id": "WF-BAD"})
    assert (row["status"], row["reason"]) == ("FAILED", reason)
    assert (failed["reason"], failed["source"], json.loads(failed["order"])) == (reason, "VALIDATION", order)
    assert workflow.messages(workflow.queue_url) == []
    assert workflow.notifications_of("CustomerTopic") == [f"Order WF-BAD failed: {reason}"]
    assert bus_events() == [("OrderFailed", {"order_id": "WF-BAD", "customer_id": customer_id,
                                             "error": "OrderRejected", "reason": reason, "execution_arn": arn})]


# -- payment retries: 5 s then 10 s ------------------------------------------------------------------------------


def gaps(events):
    """Seconds between each TaskFailed and the next TaskScheduled."""
    out = []
    for (kind, at), (next_kind, next_at) in zip(events, events[1:]):
        if kind == "TaskFailed" and next_kind == "TaskScheduled":
            out.append((next_at - at) if isinstance(at, (int, float)) else (next_at - at).total_seconds())
    return out


def test_payment_gateway_down_is_retried_at_5_then_10_seconds_then_released(workflow, aws, bus_events):
    arn, described = run_order(workflow, make_order("WF-DOWN", "CUST-006", [{"sku": "SKU-002", "quantity": 3}]))
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "PaymentFailed", "PaymentProcessingError: payment gateway unavailable (attempt 3)")
    history = workflow.history(arn)
    charge = task_events(history, "ChargePayment")
    assert [kind for kind, _ in charge if kind in ("TaskScheduled", "TaskFailed")] == [
        "TaskScheduled", "TaskFailed"] * 3
    assert gaps(charge) == [5.0, 10.0]
    charges = [event for name, event in workflow.lambdas.calls if name == "ChargePaymentFunction"]
    assert [event["attempt"] for event in charges] == [0, 1, 2]
    path = in_branch_order(entered_states(history))
    assert path[path.index("CheckResults"):] == ["CheckResults", "DescribePaymentFailure", *FAILURE_TAIL]
    assert "PaymentUnavailable" in path and "PaymentDeclined" not in path
    assert stock(aws, "SKU-002") == 5000
    row = stored(aws, "OrdersTable", {"order_id": "WF-DOWN"})
    assert (row["status"], row["reservation_status"]) == ("FAILED", "RELEASED")
    assert stored(aws, "PaymentsTable", {"order_id": "WF-DOWN"}) is None
    assert stored(aws, "FailedOrdersTable", {"order_id": "WF-DOWN"})["source"] == "WORKFLOW"


def test_gateway_timeout_once_succeeds_on_the_retry_after_5_seconds(workflow, aws):
    arn, described = run_order(workflow, make_order("WF-FLAKY", "CUST-005", [{"sku": "SKU-002", "quantity": 1}]))
    assert described["status"] == "SUCCEEDED"
    charge = task_events(workflow.history(arn), "ChargePayment")
    assert [kind for kind, _ in charge if kind in ("TaskScheduled", "TaskFailed", "TaskSucceeded")] == [
        "TaskScheduled", "TaskFailed", "TaskScheduled", "TaskSucceeded"]
    assert gaps(charge) == [5.0]
    assert stored(aws, "PaymentsTable", {"order_id": "WF-FLAKY"})["status"] == "CHARGED"


# -- compensation ------------------------------------------------------------------------------------------------


def test_declined_card_is_caught_without_retry_and_the_reservation_released(workflow, aws):
    arn, described = run_order(workflow, make_order("WF-DECL", "CUST-004", [{"sku": "SKU-003", "quantity": 2}]))
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "PaymentFailed", "PaymentFailedError: card declined for 65998 cents")
    history = workflow.history(arn)
    assert [kind for kind, _ in task_events(history, "ChargePayment")
            if kind in ("TaskScheduled", "TaskFailed")] == ["TaskScheduled", "TaskFailed"]
    path = in_branch_order(entered_states(history))
    assert "PaymentDeclined" in path and "PaymentUnavailable" not in path
    assert path[path.index("CheckResults"):] == ["CheckResults", "DescribePaymentFailure", *FAILURE_TAIL]
    compensation = json.loads(next(e for e in history if e["type"] == "ParallelStateExited"
                                   and e["stateExitedEventDetails"]["name"] == "CompensateFailedOrder")[
        "stateExitedEventDetails"]["output"])["compensation"]
    assert compensation == {"payment": {"status": "NOT_CHARGED", "refund_id": None},
                            "inventory": {"status": "RELEASED"}}
    assert stored(aws, "PaymentsTable", {"order_id": "WF-DECL"}) is None
    assert stock(aws, "SKU-003") == 5
    assert workflow.notifications_of("CustomerTopic") == [
        "Order WF-DECL failed: PaymentFailedError: card declined for 65998 cents"]


# -- human approval ------------------------------------------------------------------------------------------------


def place_big_order(load_event, lambda_context, order_id):
    status, body = api_call(load_event, lambda_context, "POST", "/orders",
                            {"orderId": order_id, "customerId": "CUST-002", "items": BIG_ORDER_ITEMS})
    assert status == 202, body
    return body["executionArn"]


def decide(load_event, lambda_context, order_id, body):
    return api_call(load_event, lambda_context, "POST", f"/orders/{order_id}/approval", body,
                    path_parameters={"orderId": order_id})


def test_approval_approve_resumes_the_workflow(manual_workflow, aws, load_event, lambda_context):
    arn = place_big_order(load_event, lambda_context, "WF-APPROVE")
    wait_for_status(aws, "WF-APPROVE", "AWAITING_APPROVAL")
    assert api_call(load_event, lambda_context, "GET", "/orders/WF-APPROVE",
                    path_parameters={"orderId": "WF-APPROVE"})[1]["status"] == "AWAITING_APPROVAL"
    assert manual_workflow.notifications_of("ApprovalTopic") == [
        "Order WF-APPROVE of customer CUST-002 totals 107988 cents, above the approval threshold of 100000 cents. "
        "Answer with POST /orders/WF-APPROVE/approval."]
    assert decide(load_event, lambda_context, "WF-APPROVE", {"decision": "approve", "comment": "known customer"}) == (
        200, {"orderId": "WF-APPROVE", "status": "PROCESSING", "decision": "approve"})
    described = manual_workflow.wait(arn)
    assert described["status"] == "SUCCEEDED"
    history = manual_workflow.history(arn)
    path = entered_states(history)
    assert path[path.index("CheckApprovalNeeded"):path.index("ChargeAndReserve") + 1] == [
        "CheckApprovalNeeded", "NotifyApprovalNeeded", "AwaitApproval", "ChargeAndReserve"]
    assert path[-1] == "OrderAccepted"
    kinds = [kind for kind, _ in task_events(history, "AwaitApproval")]
    assert kinds == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    assert decide(load_event, lambda_context, "WF-APPROVE", {"decision": "approve"}) == (409, {
        "error": "Conflict", "errorType": "ApprovalNotPendingError",
        "message": "order WF-APPROVE is PROCESSING, not AWAITING_APPROVAL"})


def test_approval_reject_fails_the_order(manual_workflow, aws, load_event, lambda_context):
    arn = place_big_order(load_event, lambda_context, "WF-REJECT")
    wait_for_status(aws, "WF-REJECT", "AWAITING_APPROVAL")
    assert decide(load_event, lambda_context, "WF-REJECT", {"decision": "reject", "comment": "too large"}) == (
        200, {"orderId": "WF-REJECT", "status": "FAILED", "decision": "reject"})
    described = manual_workflow.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "ApprovalRejected", "ApprovalRejectedError: too large")
    history = manual_workflow.history(arn)
    path = in_branch_order(entered_states(history))
    assert path[path.index("AwaitApproval"):] == ["AwaitApproval", "DescribeApprovalRejection", *FAILURE_TAIL]
    assert "ChargeAndReserve" not in path
    row = stored(aws, "OrdersTable", {"order_id": "WF-REJECT"})
    assert (row["status"], row["reason"], row["approval_decision"]) == (
        "FAILED", "ApprovalRejectedError: too large", "reject")


def wait_for_event(stack, arn, event_type, timeout=10.0):
    wait_until(lambda: any(event["type"] == event_type for event in stack.history(arn)), timeout,
               f"no {event_type} in {arn}", 0.01)


def advance_when_blocked(stack, seconds, timeout=10.0):
    """Advance the virtual clock once the engine sleeps (waits for a callback, a Wait state...)."""
    wait_until(stack.clock.sleepers, timeout, "the engine never slept", 0.01)
    stack.clock.advance(seconds)


def test_approval_timeout_waits_then_escalates(manual_workflow, aws, load_event, lambda_context, template):
    heartbeat = template["Parameters"]["ApprovalHeartbeatSeconds"]["Default"]
    delay = template["Parameters"]["EscalationDelaySeconds"]["Default"]
    arn = place_big_order(load_event, lambda_context, "WF-SILENT")
    wait_for_status(aws, "WF-SILENT", "AWAITING_APPROVAL")
    wait_for_event(manual_workflow, arn, "TaskSubmitted")  # the Lambda returned: only the callback waits now
    advance_when_blocked(manual_workflow, heartbeat)
    wait_for_event(manual_workflow, arn, "WaitStateEntered")
    advance_when_blocked(manual_workflow, delay)
    described = manual_workflow.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "ApprovalTimedOut", "States.HeartbeatTimeout: no approval decision within the approval window")
    history = manual_workflow.history(arn)
    path = in_branch_order(entered_states(history))
    assert path[path.index("AwaitApproval"):] == ["AwaitApproval", "WaitBeforeEscalation", "EscalateApproval",
                                                  "DescribeApprovalTimeout", *FAILURE_TAIL]
    timed_out = [e for e in history if e["type"] == "TaskTimedOut"]
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.HeartbeatTimeout"]
    entered = {e["stateEnteredEventDetails"]["name"]: e["timestamp"] for e in history
               if e["type"].endswith("StateEntered")}
    waited = entered["EscalateApproval"] - entered["WaitBeforeEscalation"]
    assert (waited if isinstance(waited, (int, float)) else waited.total_seconds()) == delay
    assert manual_workflow.notifications_of("ApprovalTopic")[-1] == (
        "ESCALATION: order WF-SILENT (107988 cents) was not approved in time (States.HeartbeatTimeout); "
        "it is cancelled.")
    assert decide(load_event, lambda_context, "WF-SILENT", {"decision": "approve"}) == (409, {
        "error": "Conflict", "errorType": "ApprovalNotPendingError",
        "message": "order WF-SILENT is FAILED, not AWAITING_APPROVAL"})


def test_approval_then_stock_sold_elsewhere_refunds_the_charge(manual_workflow, aws, load_event, lambda_context):
    arn = place_big_order(load_event, lambda_context, "WF-REFUND")
    wait_for_status(aws, "WF-REFUND", "AWAITING_APPROVAL")
    aws.Table(TABLE_ENV["InventoryTable"][1]).update_item(Key={"sku": "SKU-001"}, UpdateExpression="SET stock = :s",
                                                          ExpressionAttributeValues={":s": 3})
    assert decide(load_event, lambda_context, "WF-REFUND", {"decision": "approve"})[0] == 200
    described = manual_workflow.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "InventoryUnavailable", "InsufficientStockError: sku SKU-001: 12 requested, 3 in stock")
    path = in_branch_order(entered_states(manual_workflow.history(arn)))
    assert path[path.index("CheckResults"):] == ["CheckResults", "DescribeInventoryFailure", *FAILURE_TAIL]
    assert "InventoryUnavailable" in path
    payment = stored(aws, "PaymentsTable", {"order_id": "WF-REFUND"})
    assert (payment["status"], payment["amount_cents"], payment["refund_id"][:3]) == ("REFUNDED", 107988, "re_")
    assert stock(aws, "SKU-001") == 3


# -- idempotency ----------------------------------------------------------------------------------------------------


def test_twenty_concurrent_posts_with_one_key_start_one_execution(workflow, aws, load_event, lambda_context,
                                                                  monkeypatch):
    # Lambda runs one invocation per process; here 20 threads run the handler in one process and share Powertools'
    # metric set, whose flush checks for metrics and then serialises them: a thread that flushed in between made
    # another raise SchemaValidationError (about 1 full run in 12). This test is about the idempotency store, so
    # metrics stay unflushed here; tests/local/test_patterns_e2e.py runs the same 20 POSTs in worker processes.
    monkeypatch.setattr(metrics.provider, "flush_metrics", lambda *args, **kwargs: None)
    body = {"customerId": "CUST-001", "items": [{"sku": "SKU-002", "quantity": 1}]}
    answers, barrier = [], threading.Barrier(20)

    def post():
        barrier.wait()
        answers.append(api_call(load_event, lambda_context, "POST", "/orders", body,
                                headers={"Idempotency-Key": "key-0001"}))

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metrics.clear_metrics()
    assert [status for status, _ in answers] == [202] * 20
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1
    order_id = answers[0][1]["orderId"]
    executions = workflow.service.handle("ListExecutions", {
        "stateMachineArn": workflow.machines["OrderStateMachine"]})["executions"]
    assert [execution["name"] for execution in executions] == [order_id]
    assert workflow.wait(answers[0][1]["executionArn"])["status"] == "SUCCEEDED"
    other = api_call(load_event, lambda_context, "POST", "/orders", {**body, "items": [{"sku": "SKU-001",
                                                                                       "quantity": 1}]},
                     headers={"Idempotency-Key": "key-0001"})
    assert other == (422, {"error": "UnprocessableEntity", "errorType": "IdempotencyKeyReusedError",
                           "message": "the Idempotency-Key was used with a different request body"})


# -- Express quote ------------------------------------------------------------------------------------------------


def test_quote_is_answered_by_the_express_workflow(workflow, load_event, lambda_context):
    status, body = api_call(load_event, lambda_context, "POST", "/quotes",
                            {"items": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-003", "quantity": 6},
                                       {"sku": "SKU-999", "quantity": 1}]})
    assert (status, body) == (200, {
        "items": [
            {"sku": "SKU-001", "quantity": 2, "known": True, "unitPriceCents": 8999, "lineTotalCents": 17998,
             "inStock": True},
            {"sku": "SKU-003", "quantity": 6, "known": True, "unitPriceCents": 32999, "lineTotalCents": 197994,
             "inStock": False},
            {"sku": "SKU-999", "quantity": 1, "known": False}],
        "totalCents": 215992, "available": False,
        "unavailable": [{"sku": "SKU-003", "reason": "INSUFFICIENT_STOCK"},
                        {"sku": "SKU-999", "reason": "UNKNOWN_SKU"}]})
    executions = workflow.service.handle("ListExecutions", {
        "stateMachineArn": workflow.machines["OrderStateMachine"]})["executions"]
    assert executions == []


# -- batch of nested executions ------------------------------------------------------------------------------------


def test_batch_counts_nested_outcomes(manual_workflow, aws, load_event, lambda_context):
    workflow = manual_workflow  # nested executions are awaited, not slept: time needs no moving
    orders = ([{"orderId": f"B-OK-{i}", "customerId": "CUST-001", "items": [{"sku": "SKU-002", "quantity": 1}]}
               for i in range(3)]
              + [{"orderId": "B-SUSP", "customerId": "CUST-003", "items": [{"sku": "SKU-002", "quantity": 1}]}]
              + [{"orderId": "B-DECL", "customerId": "CUST-004", "items": [{"sku": "SKU-002", "quantity": 1}]}])
    status, body = api_call(load_event, lambda_context, "POST", "/orders/batch", {"batchId": "BATCH-1",
                                                                                 "orders": orders})
    assert (status, body["batchId"], body["orderIds"], body["status"]) == (
        202, "BATCH-1", [o["orderId"] for o in orders], "RUNNING")
    described = workflow.wait(body["executionArn"], timeout=60)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"batch_id": "BATCH-1", "status": "COMPLETED", "total": 5,
                                                "counts": {"ACCEPTED": 3, "OrderRejected": 1, "PaymentFailed": 1}}
    status, view = api_call(load_event, lambda_context, "GET", "/batches/BATCH-1",
                            path_parameters={"batchId": "BATCH-1"})
    assert (status, view["status"], view["total"], view["counts"]) == (
        200, "COMPLETED", 5, {"ACCEPTED": 3, "OrderRejected": 1, "PaymentFailed": 1})
    assert sorted((r["orderId"], r["outcome"]) for r in view["results"]) == sorted(
        [(f"B-OK-{i}", "ACCEPTED") for i in range(3)] + [("B-SUSP", "OrderRejected"), ("B-DECL", "PaymentFailed")])
    children = workflow.service.handle("ListExecutions", {
        "stateMachineArn": workflow.machines["OrderStateMachine"]})["executions"]
    assert sorted(child["name"] for child in children) == sorted(o["orderId"] for o in orders)


def test_batch_child_whose_order_id_is_taken_is_reported_and_strands_no_sibling(manual_workflow, aws):
    # the API refuses used ids up front; a batch started past that check (or racing another request for the same id)
    # must still end: the child that cannot start is reported, its siblings run to their end
    workflow = manual_workflow  # nested executions are awaited, not slept: time needs no moving
    arn, described = run_order(workflow, make_order("B-TAKEN", "CUST-001", [{"sku": "SKU-002", "quantity": 1}]))
    assert described["status"] == "SUCCEEDED"
    orders = [make_order(order_id, "CUST-001", [{"sku": "SKU-002", "quantity": 1}])
              for order_id in ("B-NEW-1", "B-TAKEN", "B-NEW-2", "B-NEW-3")]
    repository.put_new_batch({"batch_id": "BATCH-TAKEN", "status": "RUNNING", "total": 4,
                              "order_ids": [o["order_id"] for o in orders], "created_at": "t0"})
    batch = workflow.start("BatchStateMachine", "BATCH-TAKEN", {"batch_id": "BATCH-TAKEN", "orders": orders})
    described = workflow.wait(batch, timeout=60)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"batch_id": "BATCH-TAKEN", "status": "COMPLETED", "total": 4,
                                                "counts": {"ACCEPTED": 3, "StepFunctions.ExecutionAlreadyExistsException": 1}}
    report = stored(aws, "BatchesTable", {"batch_id": "BATCH-TAKEN"})
    assert report["status"] == "COMPLETED"
    assert sorted((r["order_id"], r["outcome"]) for r in report["results"]) == [
        ("B-NEW-1", "ACCEPTED"), ("B-NEW-2", "ACCEPTED"), ("B-NEW-3", "ACCEPTED"),
        ("B-TAKEN", "StepFunctions.ExecutionAlreadyExistsException")]
    for order_id in ("B-NEW-1", "B-NEW-2", "B-NEW-3"):
        row = stored(aws, "OrdersTable", {"order_id": order_id})
        assert (row["status"], row["payment_status"], row["reservation_status"]) == (
            "PROCESSING", "CHARGED", "RESERVED")  # enqueued for fulfillment (no consumer runs here)
    assert stock(aws, "SKU-002") == 5000 - 4


def test_batch_reusing_an_order_id_is_refused_before_anything_starts(manual_workflow, aws, load_event,
                                                                     lambda_context):
    arn, described = run_order(manual_workflow, make_order("B-USED", "CUST-001", [{"sku": "SKU-002", "quantity": 1}]))
    assert described["status"] == "SUCCEEDED"
    orders = [{"orderId": order_id, "customerId": "CUST-001", "items": [{"sku": "SKU-002", "quantity": 1}]}
              for order_id in ("B-FRESH", "B-USED")]
    assert api_call(load_event, lambda_context, "POST", "/orders/batch", {"batchId": "BATCH-USED",
                                                                         "orders": orders}) == (409, {
        "error": "Conflict", "errorType": "OrderAlreadyExistsError", "message": "orderId values already used: B-USED"})
    assert api_call(load_event, lambda_context, "POST", "/orders/batch", {"batchId": "BATCH-TWICE",
                                                                         "orders": orders[:1] * 2}) == (400, {
        "error": "BadRequest", "errorType": "InvalidRequestError",
        "message": "orderId values must be unique within a batch"})
    assert manual_workflow.service.handle("ListExecutions", {
        "stateMachineArn": manual_workflow.machines["BatchStateMachine"]})["executions"] == []
    assert stored(aws, "BatchesTable", {"batch_id": "BATCH-USED"}) is None
    assert stored(aws, "OrdersTable", {"order_id": "B-FRESH"}) is None
