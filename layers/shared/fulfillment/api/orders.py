"""POST /orders (start the order workflow, safely retried with an Idempotency-Key) and GET /orders/{orderId}."""

import re
import uuid

from fulfillment import idempotency, repository
from fulfillment.errors import (
    IdempotencyKeyReusedError,
    InvalidRequestError,
    OrderAlreadyExistsError,
    OrderNotFoundError,
)
from fulfillment.models import ORDER_ID_PATTERN, brief, order_from_request, plain
from fulfillment.status import Status

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
IDEMPOTENT_WAIT_SECONDS = 8.0
IDEMPOTENCY_NAMESPACE = uuid.UUID("3f9c1f0e-6a55-4d2f-9a41-6f1f5d0a2b7c")  # of the order ids derived from keys
# an order whose execution is in one of these and has no row yet is RECEIVED: its workflow has not stored it
_NOT_STORED_YET = (Status.RUNNING, Status.SUCCEEDED, Status.PENDING_REDRIVE)


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


def order_status(order_id: str) -> dict:
    """The stored order; else, while its execution runs, a RECEIVED stub. Raises OrderNotFoundError."""
    if not ORDER_ID_PATTERN.match(order_id):  # no order carries such an id (DynamoDB and Step Functions refuse it)
        raise OrderNotFoundError(f"order {brief(order_id)} not found")
    row = repository.get_order(order_id)
    if row is not None:
        return plain(row)
    status = repository.execution_status(order_id)
    if status in _NOT_STORED_YET:
        return {"order_id": order_id, "status": Status.RECEIVED}
    # The workflow may have written the row between our read and its end (a rejection stores FAILED, then fails).
    row = repository.get_order(order_id)
    if row is not None:
        return plain(row)
    return {"order_id": order_id, "status": Status.FAILED, "reason": f"order workflow ended with status {status}"}
