"""Task StoreOrder: {"order": {...validated...}} in, {"order_id", "status", "created_at"} out. Never overwrites."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.storage import store_order


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return store_order(event["order"])
