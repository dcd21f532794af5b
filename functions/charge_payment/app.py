"""Task ChargePayment: {"order_id", "customer_id", "amount_cents", "attempt"} in, {"order_id", "status",
"charge_id", "amount_cents"} out. Raises PaymentGatewayTimeout / PaymentProcessingError / PaymentFailedError.
Idempotent per order id (Powertools idempotency): a redelivered task never charges twice."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment import idempotency
from fulfillment.observability import logger, tracer
from fulfillment.tasks.payment import charge_payment


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    idempotency.register_lambda_context(context)
    return charge_payment(event["order_id"], event["customer_id"], event["amount_cents"], event.get("attempt", 0))
