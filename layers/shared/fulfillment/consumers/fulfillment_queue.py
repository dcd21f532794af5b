"""FulfillOrderFunction (SQS consumer of the fulfillment queue): the simulated fulfillment of one order (lifecycle
``fulfil``)."""

import random

from fulfillment import config, idempotency, lifecycle, repository
from fulfillment.errors import FulfillmentFailedError, OrderNotFoundError, OrderStateConflictError
from fulfillment.models import utc_now
from fulfillment.status import Status


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
        if current["status"] == Status.FAILED:
            return Status.CANCELLED
        if current["status"] != Status.FULFILLED:
            state = lifecycle.state_of(current)
            raise OrderStateConflictError(f"order {order_id} is {state['status']} (payment {state['payment_status']},"
                                          f" reservation {state['reservation_status']}), cannot fulfil")
    repository.put_event("OrderFulfilled", {"order_id": order_id, "customer_id": request.get("customer_id"),
                                            "total_cents": request.get("total_cents")})
    return Status.FULFILLED
