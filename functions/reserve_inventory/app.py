"""Task ReserveInventory: {"order_id", "items"} in, {"order_id", "status": "RESERVED"} out. Takes the stock once,
all items or none; raises InsufficientStockError / UnknownSkuError when stock was sold since validation."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.reservation import reserve_inventory


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return reserve_inventory(event["order_id"], event["items"])
