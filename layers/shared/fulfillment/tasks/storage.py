"""Task StoreOrder: the order's row, written once (lifecycle ``store``)."""

from fulfillment import repository
from fulfillment.errors import OrderAlreadyExistsError
from fulfillment.models import plain, utc_now
from fulfillment.status import Status


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
        "status": Status.PROCESSING,
        "created_at": now,
        "updated_at": now,
    }
    if repository.put_new_order(row):
        return {"order_id": row["order_id"], "status": Status.PROCESSING, "created_at": now}
    existing = plain(repository.get_order(order["order_id"]) or {})
    if existing.get("customer_id") == row["customer_id"] and existing.get("items") == row["items"]:
        return {"order_id": row["order_id"], "status": existing["status"], "created_at": existing["created_at"]}
    raise OrderAlreadyExistsError(f"order {order['order_id']} already exists")
