"""Task AwaitApproval (lambda:invoke.waitForTaskToken): the order waits for a reviewer (lifecycle
``await_approval``)."""

from fulfillment import repository
from fulfillment.errors import OrderNotFoundError, OrderStateConflictError
from fulfillment.models import utc_now
from fulfillment.status import Status


def request_approval(order_id: str, task_token: str) -> dict:
    """Record the task token on the order, status AWAITING_APPROVAL."""
    if repository.record_approval_request(order_id, task_token, utc_now()):
        return {"order_id": order_id, "status": Status.AWAITING_APPROVAL}
    current = repository.get_order(order_id)
    if current is None:
        raise OrderNotFoundError(f"order {order_id} not found")
    raise OrderStateConflictError(f"order {order_id} is {current['status']}, cannot await approval")
