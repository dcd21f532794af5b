"""Task AwaitApproval (lambda:invoke.waitForTaskToken): {"order_id", "task_token"} in; records the token on the
order (status AWAITING_APPROVAL). The workflow waits until the approval API answers the token."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.observability import logger, tracer
from fulfillment.tasks.approval import request_approval


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return request_approval(event["order_id"], event["task_token"])
