"""Task ReleaseInventory (compensation): {"order_id", "items"} in, {"order_id", "status"} out. Releases once."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.compensation import release_inventory
from fulfillment.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return release_inventory(event["order_id"], event["items"])
