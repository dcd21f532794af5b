"""Task ChargePayment: the order's total charged once (lifecycle ``charge``)."""

from fulfillment import idempotency, lifecycle, payments, repository
from fulfillment.errors import OrderStateConflictError
from fulfillment.models import plain, utc_now
from fulfillment.status import Status


def charge_payment(order_id: str, customer_id: str, amount_cents: int, attempt: int) -> dict:
    """Charge the order's total once, however often the task is delivered.

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
               "status": Status.CHARGED, "charged_at": utc_now()}
        if repository.record_charge(row, row["charged_at"]):
            return {"order_id": order_id, "status": Status.SUCCESS, "charge_id": charge_id,
                    "amount_cents": request["amount_cents"]}
        # a simulated authorization holds nothing; a real gateway's would be voided here
        order = repository.get_order(order_id)
    payment = plain(repository.get_payment(order_id) or {})
    if payment.get("status") == Status.CHARGED:  # charged by an earlier attempt of this task: the same charge
        return {"order_id": order_id, "status": Status.SUCCESS, "charge_id": payment["charge_id"],
                "amount_cents": payment["amount_cents"]}
    state = lifecycle.state_of(order)
    raise OrderStateConflictError(f"order {order_id} is {state['status']} (payment {state['payment_status']}): "
                                  "charge refused")
