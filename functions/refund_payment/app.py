"""Task RefundPayment (compensation): {"order_id"} in, {"order_id", "status", "refund_id"} out. Refunds once."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.compensation import refund_payment
from fulfillment.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return refund_payment(event["order_id"])
