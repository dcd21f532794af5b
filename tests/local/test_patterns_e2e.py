"""Every pattern of issue 3 on the local runtime, started as users start it (``python -m local_runtime serve``):
HTTP to the API, boto3 to the endpoint, and the path each execution took read back with GetExecutionHistory.

Runtime features these tests rely on: task tokens and heartbeats, TIME_SCALE on Retry/Wait/callback timeouts,
``states:startExecution.sync:2``, StartSyncExecution (with host-prefix injection off for the workers),
SNS topics, EventBridge rules to state machines, DynamoDB streams to Lambda.
"""
import json
import threading

import pytest

from tests.support import polling
from tests.support.orders import CLIENT_KEY, REVIEWER_KEY, new_order_id, place_order, wait_terminal

BIG_ITEMS = [{"sku": "SKU-001", "quantity": 12}]  # 107988 cents, above the default ApprovalThreshold


@pytest.fixture(scope="module")
def stack(local_stack_factory):
    """Fulfillment always succeeds; 0.01 scale: the 5 s and 10 s payment retries take 0.05 s and 0.1 s."""
    return local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)


@pytest.fixture(scope="module")
def short_approvals(local_stack_factory):
    """Approval heartbeat 60 s, timeout 120 s, escalation after 30 s: at scale 0.01, 0.6 s, 1.2 s and 0.3 s."""
    return local_stack_factory({"FulfillmentSuccessRate": "1", "ApprovalHeartbeatSeconds": "60",
                                "ApprovalTimeoutSeconds": "120", "EscalationDelaySeconds": "30"}, time_scale=0.01)


def history(stack, execution_arn):
    client = stack.client("stepfunctions")
    events, kwargs = [], {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**kwargs)
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


def entered(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def wait_execution(stack, execution_arn, timeout=60.0):
    return polling.wait_execution(stack.client("stepfunctions"), execution_arn, timeout)


def order_events(events, state_name):
    """Task events owned by ``state_name`` (traced back along previousEventId)."""
    by_id = {e["id"]: e for e in events}

    def owner(event):
        while event is not None:
            if event["type"] == "TaskStateEntered":
                return event["stateEnteredEventDetails"]["name"]
            event = by_id.get(event["previousEventId"])
        return None

    return [e for e in events if e["type"] in ("TaskScheduled", "TaskFailed", "TaskSucceeded", "TaskSubmitted",
                                               "TaskTimedOut") and owner(e) == state_name]


def post(stack, path, body, headers=None):
    """POST with the API key the route needs: the reviewers' for an approval, else the clients'."""
    key = REVIEWER_KEY if path.endswith("/approval") else CLIENT_KEY
    return stack.api(key).post(path, body, headers=headers)


def get(stack, path):
    return stack.api().get(path)


def wait_status(stack, order_id, status, timeout=30.0):
    return polling.wait_until(lambda: get(stack, f"orders/{order_id}").json(), timeout,
                              lambda view: f"{order_id} never {status}: {view}", 0.05,
                              accept=lambda view: view.get("status") == status)


# -- parallel + payment retry -----------------------------------------------------------------------------------


def test_parallel_charge_and_reserve_with_payment_retry_then_fulfilled(stack):
    order_id = new_order_id("RETRY")
    accepted = place_order(stack.api(), {"orderId": order_id, "customerId": "CUST-005",
                                                     "items": [{"sku": "SKU-002", "quantity": 1}]}).json()
    described = wait_execution(stack, accepted["executionArn"])
    assert described["status"] == "SUCCEEDED"
    events = history(stack, accepted["executionArn"])
    path = entered(events)
    assert path[path.index("ChargeAndReserve") + 3:] == ["CheckResults", "EnqueueFulfillment",
                                                        "NotifyOrderConfirmed", "SummarizeOrder", "OrderAccepted"]
    assert sorted(path[path.index("ChargeAndReserve") + 1:path.index("ChargeAndReserve") + 3]) == [
        "ChargePayment", "ReserveInventory"]
    charge = order_events(events, "ChargePayment")
    assert [e["type"] for e in charge] == ["TaskScheduled", "TaskFailed", "TaskScheduled", "TaskSucceeded"]
    assert charge[1]["taskFailedEventDetails"]["error"] == "PaymentGatewayTimeout"
    waited = (charge[2]["timestamp"] - charge[1]["timestamp"]).total_seconds()
    assert 5 * stack.time_scale <= waited < 5 * stack.time_scale + 1.0
    assert wait_terminal(stack.api(), [order_id])[order_id]["status"] == "FULFILLED"


def test_gateway_down_retries_at_5_then_10_seconds_then_compensates(stack):
    order_id = new_order_id("DOWN")
    accepted = place_order(stack.api(), {"orderId": order_id, "customerId": "CUST-006",
                                                     "items": [{"sku": "SKU-002", "quantity": 1}]}).json()
    described = wait_execution(stack, accepted["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "PaymentFailed")
    events = history(stack, accepted["executionArn"])
    charge = order_events(events, "ChargePayment")
    assert [e["type"] for e in charge] == ["TaskScheduled", "TaskFailed"] * 3
    intervals = [(charge[i + 1]["timestamp"] - charge[i]["timestamp"]).total_seconds() for i in (1, 3)]
    assert intervals[0] >= 5 * stack.time_scale and intervals[1] >= 10 * stack.time_scale
    assert intervals[1] > intervals[0]
    path = entered(events)
    tail = path[path.index("CheckResults"):]
    assert tail[:4] == ["CheckResults", "DescribePaymentFailure", "UpdateOrderFailed", "CompensateFailedOrder"]
    assert sorted(tail[4:6]) == ["RefundPayment", "ReleaseInventory"]  # side by side: refund finds nothing
    assert tail[6:] == ["RecordWorkflowFailure", "NotifyOrderFailed", "PublishOrderFailed", "OrderFailed"]
    assert get(stack, f"orders/{order_id}").json()["status"] == "FAILED"


# -- compensation --------------------------------------------------------------------------------------------------


def test_declined_card_releases_the_reservation(stack):
    stock_before = int(stack.table("InventoryTableName").get_item(Key={"sku": "SKU-003"})["Item"]["stock"])
    order_id = new_order_id("DECL")
    accepted = place_order(stack.api(), {"orderId": order_id, "customerId": "CUST-004",
                                                     "items": [{"sku": "SKU-003", "quantity": 1}]}).json()
    described = wait_execution(stack, accepted["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "PaymentFailed", "PaymentFailedError: card declined for 32999 cents")
    path = entered(history(stack, accepted["executionArn"]))
    assert "PaymentDeclined" in path and path.index("UpdateOrderFailed") < path.index("ReleaseInventory")
    assert stack.table("PaymentsTableName").get_item(Key={"order_id": order_id}).get("Item") is None
    assert int(stack.table("InventoryTableName").get_item(Key={"sku": "SKU-003"})["Item"]["stock"]) == stock_before


# -- human approval ------------------------------------------------------------------------------------------------


def place_big(stack, prefix):
    order_id = new_order_id(prefix)
    response = place_order(stack.api(), {"orderId": order_id, "customerId": "CUST-002", "items": BIG_ITEMS})
    assert response.status_code == 202, response.text
    return order_id, response.json()["executionArn"]


def test_approval_approve(stack):
    order_id, arn = place_big(stack, "APPROVE")
    wait_status(stack, order_id, "AWAITING_APPROVAL")
    # a client (the customer who placed it) cannot approve: API Gateway admits the key, the function refuses it
    approve = {"decision": "approve", "comment": "mine"}
    by_client = stack.api(CLIENT_KEY).post(f"orders/{order_id}/approval", approve)
    assert (by_client.status_code, by_client.json()["errorType"]) == (403, "AccessDeniedError")
    assert stack.api(None).post(f"orders/{order_id}/approval", approve).json() == {"message": "Forbidden"}
    assert stack.api(None).with_key("wrong").post(f"orders/{order_id}/approval", approve).status_code == 403
    assert get(stack, f"orders/{order_id}").json()["status"] == "AWAITING_APPROVAL"
    answer = post(stack, f"orders/{order_id}/approval", {"decision": "approve", "comment": "ok"})
    assert (answer.status_code, answer.json()) == (200, {"orderId": order_id, "status": "PROCESSING",
                                                         "decision": "approve"})
    assert wait_execution(stack, arn)["status"] == "SUCCEEDED"
    path = entered(history(stack, arn))
    assert path[path.index("CheckApprovalNeeded"):path.index("ChargeAndReserve") + 1] == [
        "CheckApprovalNeeded", "NotifyApprovalNeeded", "AwaitApproval", "ChargeAndReserve"]
    assert post(stack, f"orders/{order_id}/approval", {"decision": "approve"}).status_code == 409


def test_approval_reject(stack):
    order_id, arn = place_big(stack, "REJECT")
    wait_status(stack, order_id, "AWAITING_APPROVAL")
    assert post(stack, f"orders/{order_id}/approval", {"decision": "reject", "comment": "no"}).status_code == 200
    described = wait_execution(stack, arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "ApprovalRejected", "ApprovalRejectedError: no")
    path = entered(history(stack, arn))
    assert path[path.index("AwaitApproval"):path.index("AwaitApproval") + 2] == ["AwaitApproval",
                                                                                 "DescribeApprovalRejection"]
    assert get(stack, f"orders/{order_id}").json()["status"] == "FAILED"


def test_approval_timeout_escalates(short_approvals):
    order_id, arn = place_big(short_approvals, "SILENT")
    described = wait_execution(short_approvals, arn)
    assert (described["status"], described["error"]) == ("FAILED", "ApprovalTimedOut")
    events = history(short_approvals, arn)
    path = entered(events)
    assert path[path.index("AwaitApproval"):path.index("AwaitApproval") + 3] == [
        "AwaitApproval", "WaitBeforeEscalation", "EscalateApproval"]
    timed_out = [e for e in order_events(events, "AwaitApproval") if e["type"] == "TaskTimedOut"]
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.HeartbeatTimeout"]
    assert get(short_approvals, f"orders/{order_id}").json()["status"] == "FAILED"


# -- batch of 20 nested executions -----------------------------------------------------------------------------------


def test_batch_of_twenty_with_mixed_outcomes_reports_exact_counts(stack):
    batch = new_order_id("BATCH")
    plan = [("CUST-001", "ACCEPTED")] * 12 + [("CUST-003", "OrderRejected")] * 4 + [("CUST-004", "PaymentFailed")] * 4
    orders = [{"orderId": f"{batch}-{i}", "customerId": customer, "items": [{"sku": "SKU-002", "quantity": 1}]}
              for i, (customer, _) in enumerate(plan)]
    response = post(stack, "orders/batch", {"batchId": batch, "orders": orders})
    assert response.status_code == 202, response.text
    described = wait_execution(stack, response.json()["executionArn"], timeout=120)
    assert described["status"] == "SUCCEEDED", described
    expected = {"ACCEPTED": 12, "OrderRejected": 4, "PaymentFailed": 4}
    assert json.loads(described["output"])["counts"] == expected
    view = get(stack, f"batches/{batch}").json()
    assert (view["status"], view["total"], view["counts"]) == ("COMPLETED", 20, expected)
    assert sorted((r["orderId"], r["outcome"]) for r in view["results"]) == sorted(
        (f"{batch}-{i}", outcome) for i, (_, outcome) in enumerate(plan))
    events = history(stack, response.json()["executionArn"])
    nested = [e for e in events if e["type"] == "TaskSubmitted"]
    assert len(nested) == 20


# -- Express quote ----------------------------------------------------------------------------------------------------


def test_quote_is_answered_synchronously_by_express(stack):
    response = post(stack, "quotes", {"items": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-404", "quantity": 1}]})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [{"sku": "SKU-001", "quantity": 2, "known": True, "unitPriceCents": 8999, "lineTotalCents": 17998,
                   "inStock": True},
                  {"sku": "SKU-404", "quantity": 1, "known": False}],
        "totalCents": 17998, "available": False, "unavailable": [{"sku": "SKU-404", "reason": "UNKNOWN_SKU"}]}


# -- idempotency -------------------------------------------------------------------------------------------------------


def test_twenty_concurrent_same_key_posts_make_one_order_and_one_execution(stack):
    key = new_order_id("KEY")
    body = {"customerId": "CUST-001", "items": [{"sku": "SKU-002", "quantity": 1}]}
    answers, barrier = [], threading.Barrier(20)

    def send():
        barrier.wait()
        answers.append(post(stack, "orders", body, {"Idempotency-Key": key}))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers if a.status_code != 202]
    assert len({a.text for a in answers}) == 1
    order_id = answers[0].json()["orderId"]
    executions = stack.client("stepfunctions").list_executions(
        stateMachineArn=stack.outputs["OrderStateMachineArn"])["executions"]
    assert [e["name"] for e in executions].count(order_id) == 1
    assert wait_terminal(stack.api(), [order_id])[order_id]["status"] == "FULFILLED"


# -- events: customers stream -> EventBridge -> onboarding -------------------------------------------------------------


def test_new_customer_starts_the_onboarding_workflow(stack):
    customer_id = new_order_id("CUST")
    response = post(stack, "customers", {"customerId": customer_id, "name": "New Customer",
                                         "email": "new@example.com"})
    assert response.status_code == 201, response.text
    client = stack.client("stepfunctions")

    def started_for_customer():
        return [summary["executionArn"]
                for summary in client.list_executions(stateMachineArn=stack.outputs["OnboardingStateMachineArn"])[
                    "executions"]
                if json.loads(client.describe_execution(executionArn=summary["executionArn"])["input"])["detail"][
                    "customer_id"] == customer_id]

    mine = polling.wait_until(started_for_customer, 30, "no onboarding execution started")
    assert len(mine) == 1
    assert wait_execution(stack, mine[0])["status"] == "SUCCEEDED"
    assert entered(history(stack, mine[0])) == ["DescribeCustomer", "SendWelcomeNotification",
                                                "SetUpLoyaltyAccount", "CustomerOnboarded"]
    row = stack.table("CustomersTableName").get_item(Key={"customer_id": customer_id})["Item"]
    assert (row["onboarding_status"], row["loyalty_tier"]) == ("ONBOARDED", "STANDARD")
