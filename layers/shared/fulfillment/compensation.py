"""The saga's compensations: a FAILED order's charge refunded and its stock released, each once (lifecycle ``refund``
and ``release``). Two entry points run them: the order workflow's RefundPayment and ReleaseInventory tasks, and the
DLQ handler (consumers/dead_letters.py), which finishes the failure path of an order the workflow could not finish."""

from fulfillment import lifecycle, payments, repository
from fulfillment.errors import OrderStateConflictError
from fulfillment.models import utc_now
from fulfillment.status import Status


def refund_payment(order_id: str) -> dict:
    """Task RefundPayment (compensation, after the order is FAILED): refund the order's charge once; nothing to do
    when never charged. A refund of an order that is not FAILED is refused (a fulfilled order keeps its charge)."""
    payment = repository.get_payment(order_id)
    if payment is None:
        return {"order_id": order_id, "status": Status.NOT_CHARGED, "refund_id": None}
    if payment["status"] == Status.CHARGED:
        refund_id = payments.refund_id()
        if repository.record_refund(order_id, refund_id, utc_now()):
            return {"order_id": order_id, "status": Status.REFUNDED, "refund_id": refund_id}
        payment = repository.get_payment(order_id)
        if payment["status"] == Status.CHARGED:
            state = lifecycle.state_of(repository.get_order(order_id))
            raise OrderStateConflictError(f"order {order_id} is {state['status']}: refund refused")
    return {"order_id": order_id, "status": payment["status"], "refund_id": payment.get("refund_id")}


def release_inventory(order_id: str, items: list[dict]) -> dict:
    """Task ReleaseInventory (compensation, after the order is FAILED): give the reserved stock back, once. A
    release for an order that is not FAILED is refused (a fulfilled order keeps its stock)."""
    if repository.release_stock(order_id, items, utc_now()):
        return {"order_id": order_id, "status": Status.RELEASED}
    state = lifecycle.state_of(repository.get_order(order_id))
    if state["reservation_status"] == Status.RESERVED:
        raise OrderStateConflictError(f"order {order_id} is {state['status']}: release refused")
    released = state["reservation_status"] == Status.RELEASED
    return {"order_id": order_id, "status": Status.RELEASED if released else Status.NOT_RESERVED}
