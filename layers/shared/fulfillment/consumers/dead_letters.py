"""DlqHandlerFunction (SQS consumer of the fulfillment DLQ): a lost order recorded FAILED, its money and stock given
back."""

import json

from fulfillment import repository
from fulfillment.compensation import refund_payment, release_inventory
from fulfillment.models import utc_now
from fulfillment.status import Status


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
        source = Status.FULFILLMENT
    else:
        reason, source = failure.get("cause") or failure.get("error") or "workflow failure", Status.WORKFLOW
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
