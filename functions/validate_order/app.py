"""Task ValidateOrder: {"order": {...}} in, the priced order out. Raises the rule's leaf error (see ASL Catch)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.validation import validate_order


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return validate_order(event.get("order"))
