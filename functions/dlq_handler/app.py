"""SQS consumer of FulfillmentDlq: marks each order FAILED, writes its failed_orders row, refunds its charge and
releases its stock. Its messages: fulfillment messages SQS dead-lettered ({"order"}), and orders the order workflow
handed over when it could not finish its own failure path ({"order", "failure": {"error", "cause"}}).

Any DynamoDB error propagates and becomes a batch item failure (the message stays in the DLQ), never swallowed.
"""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.consumers.dead_letters import record_dead_letter
from fulfillment.models import epoch_ms_to_iso
from fulfillment.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> bool:
    body = json.loads(record.body)
    order = body["order"]
    attributes = record.attributes
    first_received = attributes.approximate_first_receive_timestamp
    recorded = record_dead_letter(
        order,
        receive_count=int(attributes.approximate_receive_count),
        sent_at=epoch_ms_to_iso(attributes.sent_timestamp),
        first_received_at=epoch_ms_to_iso(first_received) if first_received else None,
        message_id=record.message_id,
        failure=body.get("failure"),
    )
    if recorded:
        metrics.add_metric(name="OrdersDeadLettered", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="OrdersFailed", unit=MetricUnit.Count, value=1)
    else:
        logger.warning("dead-lettered order was fulfilled meanwhile", extra={"order_id": order["order_id"]})
    return recorded


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
