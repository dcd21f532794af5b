"""Simulated payment gateway. A customer's ``payment_method`` token decides the outcome, the way a real gateway's
test cards do, so every payment path of the workflow can be exercised on purpose:

* ``tok_visa`` (and any other token): approved;
* ``tok_declined``: declined, PaymentFailedError (permanent);
* ``tok_timeout_once``: the first attempt times out (PaymentGatewayTimeout), the retry is approved;
* ``tok_unavailable``: every attempt fails with PaymentProcessingError (transient, retried, then given up).
"""

import uuid

from fulfillment.errors import PaymentFailedError, PaymentGatewayTimeout, PaymentProcessingError

DEFAULT_PAYMENT_METHOD = "tok_visa"
DECLINED = "tok_declined"
TIMEOUT_ONCE = "tok_timeout_once"
UNAVAILABLE = "tok_unavailable"


def authorize(payment_method: str, amount_cents: int, attempt: int) -> str:
    """Charge ``amount_cents``; ``attempt`` counts from 0 (Step Functions' ``$$.State.RetryCount``).

    Returns the gateway's charge id; raises the gateway's error.
    """
    if payment_method == DECLINED:
        raise PaymentFailedError(f"card declined for {amount_cents} cents")
    if payment_method == TIMEOUT_ONCE and attempt == 0:
        raise PaymentGatewayTimeout("payment gateway did not answer in time")
    if payment_method == UNAVAILABLE:
        raise PaymentProcessingError(f"payment gateway unavailable (attempt {attempt + 1})")
    return f"ch_{uuid.uuid4().hex[:24]}"


def refund_id() -> str:
    return f"re_{uuid.uuid4().hex[:24]}"
