"""SQS consumer of FulfillmentQueue: body {"order": {...}}. A failed record raises and becomes a batch item failure,
so SQS redelivers it after the visibility timeout and dead-letters it after MaxReceiveCount receives."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment import idempotency
from fulfillment.consumers.fulfillment_queue import fulfill_order
from fulfillment.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    order = json.loads(record.body)["order"]
    logger.append_keys(order_id=order["order_id"])
    try:
        status = fulfill_order(order)
    except Exception:
        metrics.add_metric(name="FulfillmentFailures", unit=MetricUnit.Count, value=1)
        raise
    finally:
        logger.remove_keys(["order_id"])
    metrics.add_metric(name="OrdersFulfilled", unit=MetricUnit.Count, value=1)
    return status


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # an invocation that times out mid-record leaves its idempotency record in progress only until the invocation's
    # own deadline, so SQS's redelivery can fulfil the order (without it, the 24 h record expiry blocks each retry)
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
