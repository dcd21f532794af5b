"""POST /orders/batch (start the batch workflow) and GET /batches/{batchId} (its report)."""

import re
import uuid

from fulfillment import config, repository
from fulfillment.errors import BatchNotFoundError, InvalidRequestError, OrderAlreadyExistsError
from fulfillment.models import ORDER_ID_PATTERN, brief, order_from_request, plain, utc_now
from fulfillment.status import Status

MAX_BATCH_ORDERS = 100


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
    repository.put_new_batch({"batch_id": batch_id, "status": Status.RUNNING, "total": len(normalized),
                              "order_ids": order_ids, "created_at": utc_now()})  # False: the report came first
    return {"batch_id": batch_id, "execution_arn": execution_arn, "order_ids": order_ids,
            "status": Status.RUNNING}


def batch_status(batch_id: str) -> dict:
    row = repository.get_batch(batch_id) if ORDER_ID_PATTERN.match(batch_id) else None  # same pattern as order ids
    if row is None:
        raise BatchNotFoundError(f"batch {brief(batch_id)} not found")
    return plain(row)
