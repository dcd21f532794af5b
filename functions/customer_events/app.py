"""DynamoDB stream consumer of the customers table: each INSERT becomes a CustomerCreated event on the bus
(which starts the onboarding workflow). A failed put is a batch item failure, retried by the event source."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment.consumers.customer_events import publish_customer_created
from fulfillment.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@tracer.capture_method(capture_response=False)
def record_handler(record: DynamoDBRecord) -> str | None:
    if record.event_name is not DynamoDBRecordEventName.INSERT:
        return None
    return publish_customer_created(record.dynamodb.new_image)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
