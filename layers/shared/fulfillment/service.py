"""Business operations, one per workflow step. Raise domain errors; never return an error value."""

import json
import random
import re
import uuid
from collections import Counter

from fulfillment import config, idempotency, lifecycle, payments, repository
from fulfillment.errors import (
    ApprovalPendingError,
    ApprovalRejectedError,
    BatchNotFoundError,
    CustomerAlreadyExistsError,
    CustomerInactiveError,
    CustomerNotFoundError,
    FulfillmentFailedError,
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InvalidRequestError,
    OrderAlreadyExistsError,
    OrderNotFoundError,
    OrderStateConflictError,
    QuoteFailedError,
    UnknownSkuError,
)
from fulfillment.models import (
    ORDER_ID_PATTERN,
    brief,
    check_items,
    check_order,
    order_from_request,
    plain,
    utc_now,
)

from fulfillment.status import (
    BatchStatus,
    CustomerStatus,
    ExecutionStatus,
    FailureSource,
    OrderStatus,
    Outcome,
    PaymentStatus,
    ReservationStatus,
    Unavailability,
)

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
IDEMPOTENT_WAIT_SECONDS = 8.0
IDEMPOTENCY_NAMESPACE = uuid.UUID("3f9c1f0e-6a55-4d2f-9a41-6f1f5d0a2b7c")  # of the order ids derived from keys
MAX_BATCH_ORDERS = 100


# API ---------------------------------------------------------------------------------------------------------


def submit_order(body: dict, idempotency_key: str | None = None, caller: str | None = None) -> dict:
    """Normalize a POST /orders body and start the workflow named after the order id.

    With an ``idempotency_key`` the same key (of the same ``caller``, the API key id) always means the same order:
    without an ``orderId`` in the body, the order id is derived from the key, so a retry starts (or finds) the same
    execution even when the first request died half way, after storing nothing or after StartExecution; the first
    answer is also stored (Powertools idempotency), concurrent retries wait for it, and a retry with another body is
    refused.
    """
    if idempotency_key is None:
        return _submit_order(request={"body": body})
    if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InvalidRequestError("Idempotency-Key must be 1 to 128 printable ASCII characters")
    scoped_key = f"{caller or ''}:{idempotency_key}"
    request = {"key": scoped_key, "body": body, "order_id": idempotent_order_id(scoped_key)}
    return idempotency.run_once("orders", "key", _submit_order, request, validation_path="body",
                                wait_seconds=IDEMPOTENT_WAIT_SECONDS)


def idempotent_order_id(scoped_key: str) -> str:
    """The order id of a keyed request without ``orderId``: a UUID (version 5) of the caller and the key."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, scoped_key))


def _submit_order(request: dict) -> dict:
    order = order_from_request(request["body"], default_id=request.get("order_id"))
    try:
        execution_arn = repository.start_execution(order["order_id"], {"order": order})
    except OrderAlreadyExistsError:
        if "key" not in request:
            raise
        # a keyed retry of a request that started the execution and died before answering: the same order
        started = repository.execution_input(order["order_id"]).get("order") or {}
        if (started.get("customer_id"), started.get("items")) != (order["customer_id"], order["items"]):
            raise IdempotencyKeyReusedError(
                f"order {order['order_id']} was submitted with another body under this Idempotency-Key") from None
        execution_arn = repository.execution_arn(order["order_id"])
    return {"order_id": order["order_id"], "execution_arn": execution_arn}


def decide_approval(order_id: str, decision: str, comment: str = "") -> dict:
    """A reviewer's answer to AwaitApproval: approve (SendTaskSuccess), reject (SendTaskFailure with
    ApprovalRejectedError) or review (SendTaskHeartbeat: still deciding). ApprovalPendingError when the order
    is not AWAITING_APPROVAL or its approval task has ended."""
    row = order_status(order_id)   # an order whose workflow has not stored it yet is RECEIVED: 409, not 404
    if row.get("status") != OrderStatus.AWAITING_APPROVAL:
        raise ApprovalPendingError(f"order {order_id} is {row.get('status')}, not {OrderStatus.AWAITING_APPROVAL}")
    token = row["task_token"]
    if decision == "review":
        repository.send_task_heartbeat(token)
        return {"order_id": order_id, "status": OrderStatus.AWAITING_APPROVAL, "decision": decision}
    now = utc_now()
    if decision == "approve":
        new_status, fields = OrderStatus.PROCESSING, {}
    elif decision == "reject":
        new_status = OrderStatus.FAILED
        fields = {"reason": f"{ApprovalRejectedError.__name__}: {comment or 'rejected by a reviewer'}",
                  "failed_at": now}
    else:
        raise InvalidRequestError("decision must be approve, reject or review")
    # the order moves first, then the workflow hears of it: an approved order is PROCESSING before it is charged
    if not repository.transition_order(order_id, decision, now, approval_decision=decision,
                                       approval_comment=comment, decided_at=now, **fields):
        raise ApprovalPendingError(f"order {order_id} is no longer {OrderStatus.AWAITING_APPROVAL}")
    if decision == "approve":
        repository.send_task_success(token, {"decision": decision, "comment": comment, "decided_at": now})
    else:
        repository.send_task_failure(token, ApprovalRejectedError.__name__, comment or "rejected by a reviewer")
    return {"order_id": order_id, "status": new_status, "decision": decision}


def submit_batch(body: dict) -> dict:
    """Start the batch workflow over the orders of a POST /orders/batch body (execution name = batch id).

    Order ids used twice in the batch (400) or already used by an order (409) are refused before anything starts;
    an id taken by a request racing this one is reported as that child's outcome by the workflow itself.
    """
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list) or not 1 <= len(orders) <= MAX_BATCH_ORDERS:
        raise InvalidRequestError(f"orders must be a list of 1 to {MAX_BATCH_ORDERS} orders")
    normalized = [order_from_request(order) for order in orders]
    order_ids = [order["order_id"] for order in normalized]
    if len(set(order_ids)) != len(order_ids):
        raise InvalidRequestError("orderId values must be unique within a batch")
    batch_id = body.get("batchId") or str(uuid.uuid4())
    if not isinstance(batch_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", batch_id):
        raise InvalidRequestError("batchId must match ^[A-Za-z0-9_-]{1,64}$")
    chosen = [order["orderId"] for order in orders if isinstance(order, dict) and order.get("orderId") is not None]
    taken = sorted(repository.existing_order_ids(chosen)) if chosen else []
    if taken:
        shown = ", ".join(taken[:10]) + (f" and {len(taken) - 10} more" if len(taken) > 10 else "")
        raise OrderAlreadyExistsError(f"orderId values already used: {shown}")
    # the execution first: a request that dies after it leaves a running batch (its report writes the row), never a
    # RUNNING row without an execution
    execution_arn = repository.start_named_execution(config.BATCH_STATE_MACHINE_ARN, batch_id,
                                                     {"batch_id": batch_id, "orders": normalized},
                                                     conflict=f"batch {batch_id} already exists")
    repository.put_new_batch({"batch_id": batch_id, "status": BatchStatus.RUNNING, "total": len(normalized),
                              "order_ids": order_ids, "created_at": utc_now()})  # False: the report came first
    return {"batch_id": batch_id, "execution_arn": execution_arn, "order_ids": order_ids, "status": BatchStatus.RUNNING}


def batch_status(batch_id: str) -> dict:
    row = repository.get_batch(batch_id) if ORDER_ID_PATTERN.match(batch_id) else None  # same pattern as order ids
    if row is None:
        raise BatchNotFoundError(f"batch {brief(batch_id)} not found")
    return plain(row)


def quote(body: dict) -> dict:
    """Price and stock check, answered by the Express quote workflow within the request."""
    items = check_items(body.get("items") if isinstance(body, dict) else None)
    result = repository.start_sync_execution(config.QUOTE_STATE_MACHINE_ARN, {"items": items})
    if result["status"] != ExecutionStatus.SUCCEEDED:
        raise QuoteFailedError(f"quote workflow ended {result['status']}: {result['error']}")
    return json.loads(result["output"])


def create_customer(body: dict) -> dict:
    """Insert an ACTIVE customer (never overwriting); its stream record starts onboarding."""
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    customer_id = body.get("customerId") or f"CUST-{uuid.uuid4().hex[:12].upper()}"
    row = {"customer_id": customer_id, "name": body.get("name"), "email": body.get("email"), "status": CustomerStatus.ACTIVE,
           "payment_method": body.get("paymentMethod") or payments.DEFAULT_PAYMENT_METHOD,
           "created_at": utc_now()}
    for field in ("name", "email"):
        if not isinstance(row[field], str) or not row[field].strip():
            raise InvalidRequestError(f"{field} must be a non-empty string")
    if not repository.put_new_customer(row):
        raise CustomerAlreadyExistsError(f"customer {brief(customer_id)} already exists")
    return row


def order_status(order_id: str) -> dict:
    """The stored order; else, while its execution runs, a RECEIVED stub. Raises OrderNotFoundError."""
    if not ORDER_ID_PATTERN.match(order_id):  # no order carries such an id (DynamoDB and Step Functions refuse it)
        raise OrderNotFoundError(f"order {brief(order_id)} not found")
    row = repository.get_order(order_id)
    if row is not None:
        return plain(row)
    status = repository.execution_status(order_id)
    if status in (ExecutionStatus.RUNNING, ExecutionStatus.SUCCEEDED, ExecutionStatus.PENDING_REDRIVE):
        return {"order_id": order_id, "status": OrderStatus.RECEIVED}
    # The workflow may have written the row between our read and its end (a rejection stores FAILED, then fails).
    row = repository.get_order(order_id)
    if row is not None:
        return plain(row)
    return {"order_id": order_id, "status": OrderStatus.FAILED, "reason": f"order workflow ended with status {status}"}


# Step Functions tasks ------------------------------------------------------------------------------------------


def _in_stock(item: dict) -> dict:
    """The inventory row of an order line; UnknownSkuError / InsufficientStockError when it cannot be served."""
    stock_item = repository.get_inventory_item(item["sku"])
    if stock_item is None:
        raise UnknownSkuError(f"sku {brief(item['sku'])} does not exist")
    stock = int(stock_item.get("stock", 0))
    if stock < item["quantity"]:
        raise InsufficientStockError(f"sku {brief(item['sku'])}: {item['quantity']} requested, {stock} in stock")
    return stock_item


def validate_order(order: dict) -> dict:
    """Business rules: format, customer ACTIVE, every SKU known and in stock. Returns the priced order."""
    order = check_order(order)
    customer = repository.get_customer(order["customer_id"])
    if customer is None:
        raise CustomerNotFoundError(f"customer {brief(order['customer_id'])} does not exist")
    if customer.get("status") != CustomerStatus.ACTIVE:
        raise CustomerInactiveError(f"customer {brief(order['customer_id'])} is {customer.get('status')}, not ACTIVE")
    total_cents = 0
    for item in order["items"]:
        stock_item = _in_stock(item)
        item["unit_price_cents"] = int(stock_item["price_cents"])
        total_cents += item["unit_price_cents"] * item["quantity"]
    order["total_cents"] = total_cents
    return order


def store_order(order: dict) -> dict:
    """Insert the order with status PROCESSING; never overwrite.

    A replay of the same order (same customer and items, e.g. a Lambda retry after a successful write) returns
    the stored row; a different order under an existing id raises OrderAlreadyExistsError.
    """
    now = utc_now()
    row = {
        "order_id": order["order_id"],
        "customer_id": order["customer_id"],
        "items": order["items"],
        "total_cents": order["total_cents"],
        "received_at": order.get("received_at", now),
        "status": OrderStatus.PROCESSING,
        "created_at": now,
        "updated_at": now,
    }
    if repository.put_new_order(row):
        return {"order_id": row["order_id"], "status": OrderStatus.PROCESSING, "created_at": now}
    existing = plain(repository.get_order(order["order_id"]) or {})
    if existing.get("customer_id") == row["customer_id"] and existing.get("items") == row["items"]:
        return {"order_id": row["order_id"], "status": existing["status"], "created_at": existing["created_at"]}
    raise OrderAlreadyExistsError(f"order {order['order_id']} already exists")


def request_approval(order_id: str, task_token: str) -> dict:
    """Task AwaitApproval (.waitForTaskToken): record the token on the order, status AWAITING_APPROVAL."""
    if repository.record_approval_request(order_id, task_token, utc_now()):
        return {"order_id": order_id, "status": OrderStatus.AWAITING_APPROVAL}
    current = repository.get_order(order_id)
    if current is None:
        raise OrderNotFoundError(f"order {order_id} not found")
    raise OrderStateConflictError(f"order {order_id} is {current['status']}, cannot await approval")


def charge_payment(order_id: str, customer_id: str, amount_cents: int, attempt: int) -> dict:
    """Task ChargePayment: charge the order's total once, however often the task is delivered.

    Raises PaymentGatewayTimeout / PaymentProcessingError (retried) or PaymentFailedError (declined).
    """
    request = {"order_id": order_id, "customer_id": customer_id, "amount_cents": amount_cents, "attempt": attempt}
    return idempotency.run_once("charge", "order_id", _charge, request)


def _charge(request: dict) -> dict:
    """Charge once, only while the order is PROCESSING (lifecycle ``charge``): a charge that arrives after the order
    was decided FAILED (its task timed out, the workflow compensated) is refused, never left standing."""
    order_id = request["order_id"]
    order = repository.get_order(order_id)
    if lifecycle.allows("charge", order):
        customer = repository.get_customer(request["customer_id"]) or {}
        method = customer.get("payment_method") or payments.DEFAULT_PAYMENT_METHOD
        charge_id = payments.authorize(method, request["amount_cents"], request["attempt"])
        row = {"order_id": order_id, "charge_id": charge_id, "amount_cents": request["amount_cents"],
               "status": PaymentStatus.CHARGED, "charged_at": utc_now()}
        if repository.record_charge(row, row["charged_at"]):
            return {"order_id": order_id, "status": Outcome.SUCCESS, "charge_id": charge_id,
                    "amount_cents": request["amount_cents"]}
        # a simulated authorization holds nothing; a real gateway's would be voided here
        order = repository.get_order(order_id)
    payment = plain(repository.get_payment(order_id) or {})
    if payment.get("status") == PaymentStatus.CHARGED:  # charged by an earlier attempt of this task: the same charge
        return {"order_id": order_id, "status": Outcome.SUCCESS, "charge_id": payment["charge_id"],
                "amount_cents": payment["amount_cents"]}
    state = lifecycle.state_of(order)
    raise OrderStateConflictError(f"order {order_id} is {state['status']} (payment {state['payment_status']}): "
                                  "charge refused")


def refund_payment(order_id: str) -> dict:
    """Task RefundPayment (compensation, after the order is FAILED): refund the order's charge once; nothing to do
    when never charged. A refund of an order that is not FAILED is refused (a fulfilled order keeps its charge)."""
    payment = repository.get_payment(order_id)
    if payment is None:
        return {"order_id": order_id, "status": Outcome.NOT_CHARGED, "refund_id": None}
    if payment["status"] == PaymentStatus.CHARGED:
        refund_id = payments.refund_id()
        if repository.record_refund(order_id, refund_id, utc_now()):
            return {"order_id": order_id, "status": PaymentStatus.REFUNDED, "refund_id": refund_id}
        payment = repository.get_payment(order_id)
        if payment["status"] == PaymentStatus.CHARGED:
            state = lifecycle.state_of(repository.get_order(order_id))
            raise OrderStateConflictError(f"order {order_id} is {state['status']}: refund refused")
    return {"order_id": order_id, "status": payment["status"], "refund_id": payment.get("refund_id")}


def reserve_inventory(order_id: str, items: list[dict]) -> dict:
    """Task ReserveInventory: take the items' stock for the order, all or nothing, once, only while the order is
    PROCESSING (lifecycle ``reserve``).

    Raises InsufficientStockError / UnknownSkuError when stock was sold since validation, OrderStateConflictError
    when the order has left PROCESSING (a reservation arriving after the order was decided FAILED).
    """
    if repository.reserve_stock(order_id, items, utc_now()):
        return {"order_id": order_id, "status": ReservationStatus.RESERVED}
    current = repository.get_order(order_id)
    if current is None:
        raise OrderNotFoundError(f"order {order_id} not found")
    state = lifecycle.state_of(current)
    if state["reservation_status"] == ReservationStatus.RESERVED:
        return {"order_id": order_id, "status": ReservationStatus.RESERVED}
    if not lifecycle.allows("reserve", current):
        raise OrderStateConflictError(f"order {order_id} is {state['status']} (reservation "
                                      f"{state['reservation_status']}): reservation refused")
    for item in items:
        _in_stock(item)
    raise OrderStateConflictError(f"order {order_id}: stock changed during the reservation, try again")


def release_inventory(order_id: str, items: list[dict]) -> dict:
    """Task ReleaseInventory (compensation, after the order is FAILED): give the reserved stock back, once. A
    release for an order that is not FAILED is refused (a fulfilled order keeps its stock)."""
    if repository.release_stock(order_id, items, utc_now()):
        return {"order_id": order_id, "status": ReservationStatus.RELEASED}
    state = lifecycle.state_of(repository.get_order(order_id))
    if state["reservation_status"] == ReservationStatus.RESERVED:
        raise OrderStateConflictError(f"order {order_id} is {state['status']}: release refused")
    status = ReservationStatus.RELEASED if state["reservation_status"] == ReservationStatus.RELEASED else Outcome.NOT_RESERVED
    return {"order_id": order_id, "status": status}


def report_batch(batch_id: str, results: list[dict]) -> dict:
    """Task ReportBatch: count the nested executions by outcome, store the report on the batch."""
    counts = dict(sorted(Counter(result["outcome"] for result in results).items()))
    rows = [{"order_id": result["order_id"], "outcome": result["outcome"]} for result in results]
    now = utc_now()
    repository.complete_batch(batch_id, {"total": len(rows), "counts": counts, "results": rows,
                                         "completed_at": now})
    return {"batch_id": batch_id, "status": BatchStatus.COMPLETED, "total": len(rows), "counts": counts}


def price_quote(lines: list[dict]) -> dict:
    """Task PriceQuote of the Express quote workflow: lines (with stock and price, or unknown) -> a quote."""
    items, unavailable, total = [], [], 0
    for line in lines:
        if not line.get("known"):
            items.append({"sku": line["sku"], "quantity": line["quantity"], "known": False})
            unavailable.append({"sku": line["sku"], "reason": Unavailability.UNKNOWN_SKU})
            continue
        line_total = line["unit_price_cents"] * line["quantity"]
        total += line_total
        in_stock = line["stock"] >= line["quantity"]
        items.append({"sku": line["sku"], "quantity": line["quantity"], "known": True,
                      "unit_price_cents": line["unit_price_cents"], "line_total_cents": line_total,
                      "in_stock": in_stock})
        if not in_stock:
            unavailable.append({"sku": line["sku"], "reason": Unavailability.INSUFFICIENT_STOCK})
    return {"items": items, "total_cents": total, "available": not unavailable, "unavailable": unavailable}


# Event sources -----------------------------------------------------------------------------------------------


def publish_customer_created(customer: dict) -> str:
    """A new customers-table row (stream NEW_IMAGE) as a CustomerCreated event on the bus."""
    customer = plain(customer)
    detail = {key: customer[key] for key in ("customer_id", "name", "email", "status") if key in customer}
    return repository.put_event("CustomerCreated", detail)


# SQS consumers ---------------------------------------------------------------------------------------------------


def fulfill_order(order: dict) -> str:
    """Simulated fulfillment: succeeds with probability FULFILLMENT_SUCCESS_RATE, else raises.

    Success marks the order FULFILLED (lifecycle ``fulfil``: only from PROCESSING with its payment CHARGED and its
    stock RESERVED) and puts OrderFulfilled on the bus. An order decided FAILED meanwhile (its workflow compensated,
    or the DLQ handler did) is not shipped: the answer is CANCELLED and the message is done. A duplicate delivery
    after either returns the stored result (Powertools idempotency): no second event.
    """
    return idempotency.run_once("fulfil", "order_id", _fulfil, order)


def _fulfil(request: dict) -> str:
    order_id = request["order_id"]
    if not random.random() < config.success_rate():
        raise FulfillmentFailedError(f"fulfillment of order {order_id} failed")
    now = utc_now()
    if not repository.transition_order(order_id, "fulfil", now, fulfilled_at=now):
        current = repository.get_order(order_id)
        if current is None:
            raise OrderNotFoundError(f"order {order_id} not found")
        if current["status"] == OrderStatus.FAILED:
            return Outcome.CANCELLED
        if current["status"] != OrderStatus.FULFILLED:
            state = lifecycle.state_of(current)
            raise OrderStateConflictError(f"order {order_id} is {state['status']} (payment {state['payment_status']},"
                                          f" reservation {state['reservation_status']}), cannot fulfil")
    repository.put_event("OrderFulfilled", {"order_id": order_id, "customer_id": request.get("customer_id"),
                                            "total_cents": request.get("total_cents")})
    return OrderStatus.FULFILLED


def record_dead_letter(order: dict, receive_count: int, sent_at: str, first_received_at: str | None,
                       message_id: str, failure: dict | None = None) -> bool:
    """Mark the order FAILED (lifecycle ``fail``), write its failed_orders row, refund its charge and release its
    stock. Returns False if the order was FULFILLED meanwhile (the fulfillment won: nothing to undo).

    Two kinds of message reach the DLQ: a fulfillment message SQS dead-lettered after MaxReceiveCount receives, and an
    order the workflow handed over because it could not finish its own failure path (``failure`` = the workflow's
    error and cause). Every step is idempotent, so a redelivered message repeats them harmlessly; any write error
    propagates (the message stays in the DLQ and comes back).
    """
    order_id = order["order_id"]
    now = utc_now()
    if failure is None:
        reason = f"FulfillmentFailedError: fulfillment failed, message dead-lettered after {receive_count} receives"
        source = FailureSource.FULFILLMENT
    else:
        reason, source = failure.get("cause") or failure.get("error") or "workflow failure", FailureSource.WORKFLOW
    if not repository.transition_order(order_id, "fail", now, keep_first=("reason", "failed_at"), reason=reason,
                                       failed_at=now):
        return False  # FULFILLED: a late success wins; nothing to record
    row = {
        "order_id": order_id,
        "order": json.dumps(order, sort_keys=True),
        "reason": reason,
        "source": source,
        "receive_count": receive_count,
        "sent_at": sent_at,
        "failed_at": now,
        "message_id": message_id,
    }
    if failure is not None:
        row["error"] = failure.get("error") or ""
    if first_received_at:
        row["first_received_at"] = first_received_at
    repository.put_failed_order(row)
    refund_payment(order_id)  # a FAILED order keeps neither the customer's money nor the stock
    release_inventory(order_id, order["items"])
    repository.put_event("OrderFailed", {"order_id": order_id, "customer_id": order.get("customer_id"),
                                         "error": row.get("error") or "FulfillmentFailedError", "reason": reason})
    return True
