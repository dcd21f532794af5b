"""Task ReportBatch of the batch workflow: {"batch_id", "results": [{"order_id", "outcome"}]} in; counts by
outcome stored on the batch (GET /batches/{batchId}) and returned."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.batch_report import report_batch


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return report_batch(event["batch_id"], event["results"])
