"""Task PriceQuote of the Express quote workflow: {"lines": [...]} in (each known with price and stock, or
unknown), {"items", "total_cents", "available", "unavailable"} out."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.pricing import price_quote


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return price_quote(event["lines"])
