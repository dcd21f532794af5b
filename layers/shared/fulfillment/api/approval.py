"""POST /orders/{orderId}/approval: a reviewer's answer to the workflow's AwaitApproval task."""

from fulfillment import repository
from fulfillment.api.orders import order_status
from fulfillment.errors import ApprovalNotPendingError, ApprovalRejectedError, InvalidRequestError
from fulfillment.models import utc_now
from fulfillment.status import Status


def decide_approval(order_id: str, decision: str, comment: str = "") -> dict:
    """A reviewer's answer to AwaitApproval: approve (SendTaskSuccess), reject (SendTaskFailure with
    ApprovalRejectedError) or review (SendTaskHeartbeat: still deciding). ApprovalNotPendingError when the order
    is not AWAITING_APPROVAL or its approval task has ended."""
    row = order_status(order_id)   # an order whose workflow has not stored it yet is RECEIVED: 409, not 404
    if row.get("status") != Status.AWAITING_APPROVAL:
        raise ApprovalNotPendingError(f"order {order_id} is {row.get('status')}, not {Status.AWAITING_APPROVAL}")
    token = row["task_token"]
    if decision == "review":
        repository.send_task_heartbeat(token)
        return {"order_id": order_id, "status": Status.AWAITING_APPROVAL, "decision": decision}
    now = utc_now()
    if decision == "approve":
        new_status, fields = Status.PROCESSING, {}
    elif decision == "reject":
        new_status = Status.FAILED
        fields = {"reason": f"{ApprovalRejectedError.__name__}: {comment or 'rejected by a reviewer'}",
                  "failed_at": now}
    else:
        raise InvalidRequestError("decision must be approve, reject or review")
    # the order moves first, then the workflow hears of it: an approved order is PROCESSING before it is charged
    if not repository.transition_order(order_id, decision, now, approval_decision=decision,
                                       approval_comment=comment, decided_at=now, **fields):
        raise ApprovalNotPendingError(f"order {order_id} is no longer {Status.AWAITING_APPROVAL}")
    if decision == "approve":
        repository.send_task_success(token, {"decision": decision, "comment": comment, "decided_at": now})
    else:
        repository.send_task_failure(token, ApprovalRejectedError.__name__, comment or "rejected by a reviewer")
    return {"order_id": order_id, "status": new_status, "decision": decision}
