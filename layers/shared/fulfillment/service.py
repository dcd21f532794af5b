"""Business operations, one per workflow step. Raise domain errors; never return an error value."""

import json
import random

from fulfillment import config, repository
from fulfillment.errors import (
    CustomerInactiveError,
    CustomerNotFoundError,
    FulfillmentFailedError,
    InsufficientStockError,
    OrderAlreadyExistsError,
    OrderNotFoundError,
    OrderStateConflictError,
    UnknownSkuError,
)
from fulfillment.models import check_order, order_from_request, plain, utc_now

PROCESSING = "PROCESSING"
FULFILLED = "FULFILLED"
FAILED = "FAILED"
RECEIVED = "RECEIVED"
ACTIVE = "ACTIVE"


# API ---------------------------------------------------------------------------------------------------------


def submit_order(body: dict) -> dict:
    """Normalize a POST /orders body and start the workflow named after the order id."""
    order = order_from_request(body)
    execution_arn = repository.start_execution(order["order_id"], {"order": order})
    return {"order_id": order["order_id"], "execution_arn": execution_arn}


def order_status(order_id: str) -> dict:
    """The stored order; else, while its execution runs, a RECEIVED stub. Raises OrderNotFoundError."""
    row = repository.get_order(order_id)
    if row is not None:
        return plain(row)
    status = repository.execution_status(order_id)
    if status in ("RUNNING", "SUCCEEDED", "PENDING_REDRIVE"):
        return {"order_id": order_id, "status": RECEIVED}
    return {"order_id": order_id, "status": FAILED, "reason": f"order workflow ended with status {status}"}


# Step Functions tasks ------------------------------------------------------------------------------------------


def validate_order(order: dict) -> dict:
    """Business rules: format, customer ACTIVE, every SKU known and in stock. Returns the priced order."""
    order = check_order(order)
    customer = repository.get_customer(order["customer_id"])
    if customer is None:
        raise CustomerNotFoundError(f"customer {order['customer_id']} does not exist")
    if customer.get("status") != ACTIVE:
        raise CustomerInactiveError(f"customer {order['customer_id']} is {customer.get('status')}, not ACTIVE")
    total_cents = 0
    for item in order["items"]:
        stock_item = repository.get_inventory_item(item["sku"])
        if stock_item is None:
            raise UnknownSkuError(f"sku {item['sku']} does not exist")
        stock = int(stock_item.get("stock", 0))
        if stock < item["quantity"]:
            raise InsufficientStockError(f"sku {item['sku']}: {item['quantity']} requested, {stock} in stock")
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
        "status": PROCESSING,
        "created_at": now,
        "updated_at": now,
    }
    if repository.put_new_order(row):
        return {"order_id": row["order_id"], "status": PROCESSING, "created_at": now}
    existing = plain(repository.get_order(order["order_id"]) or {})
    if existing.get("customer_id") == row["customer_id"] and existing.get("items") == row["items"]:
        return {"order_id": row["order_id"], "status": existing["status"], "created_at": existing["created_at"]}
    raise OrderAlreadyExistsError(f"order {order['order_id']} already exists")


# SQS consumers ---------------------------------------------------------------------------------------------------


def fulfill_order(order: dict) -> str:
    """Simulated fulfillment: succeeds with probability FULFILLMENT_SUCCESS_RATE, else raises.

    Success marks the order FULFILLED (only from PROCESSING, so a duplicate delivery is harmless).
    """
    order_id = order["order_id"]
    if not random.random() < config.success_rate():
        raise FulfillmentFailedError(f"fulfillment of order {order_id} failed")
    if repository.set_order_status(order_id, FULFILLED, expected=PROCESSING, now=utc_now(), fulfilled_at=utc_now()):
        return FULFILLED
    current = repository.get_order(order_id)
    if current is None:
        raise OrderNotFoundError(f"order {order_id} not found")
    if current["status"] == FULFILLED:
        return FULFILLED
    raise OrderStateConflictError(f"order {order_id} is {current['status']}, cannot fulfill")


def record_dead_letter(order: dict, receive_count: int, sent_at: str, first_received_at: str | None,
                       message_id: str) -> bool:
    """Mark the order FAILED and write its failed_orders row. Returns False if the order was FULFILLED meanwhile.

    Both writes are idempotent, so a redelivered DLQ message repeats them harmlessly; any write error propagates.
    """
    order_id = order["order_id"]
    now = utc_now()
    reason = f"FulfillmentFailedError: fulfillment failed, message dead-lettered after {receive_count} receives"
    if not repository.set_order_status(order_id, FAILED, expected=None, now=now, reason=reason, failed_at=now):
        current = repository.get_order(order_id)
        if current is None:
            raise OrderNotFoundError(f"order {order_id} not found")
        return False  # FULFILLED: a late success wins; nothing to record
    row = {
        "order_id": order_id,
        "order": json.dumps(order, sort_keys=True),
        "reason": reason,
        "source": "FULFILLMENT",
        "receive_count": receive_count,
        "sent_at": sent_at,
        "failed_at": now,
        "message_id": message_id,
    }
    if first_received_at:
        row["first_received_at"] = first_received_at
    repository.put_failed_order(row)
    return True
