"""REST API of DOFS.

POST /orders starts the order workflow (202; ``Idempotency-Key`` makes retries safe); GET /orders/{orderId}
reports its status; POST /orders/{orderId}/approval answers a pending approval; POST /orders/batch starts the
batch workflow and GET /batches/{batchId} reports it; POST /quotes is answered by the Express quote workflow;
POST /customers creates a customer (onboarding follows through its stream and EventBridge).
Every route needs an API key (API Gateway); writes check which one (fulfillment/access.py): a reviewer's decides
approvals, a client's places orders, batches, quotes and customers.
"""

import binascii
import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment import access, idempotency, models
from fulfillment.api import approval, batches, customers, orders, quotes
from fulfillment.errors import InvalidOrderError
from fulfillment.http_errors import error_body
from fulfillment.models import camel, order_view
from fulfillment.observability import logger, metrics, tracer
from fulfillment.status import Status

app = APIGatewayRestResolver()


def _require(role: str, action: str) -> None:
    access.require(app.current_event.request_context.identity.api_key_id, role, action)


def _body() -> dict:
    """The request body as JSON; 400 for a body that is not UTF-8 JSON or holds text that is not valid Unicode."""
    try:
        body = json.loads(app.current_event.decoded_body or "")
    except (json.JSONDecodeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidOrderError("request body is not valid JSON") from exc
    models.check_unicode(body)
    return body


@app.post("/orders")
@tracer.capture_method(capture_response=False)
def create_order() -> Response:
    _require(access.CLIENT, "placing an order")
    key = app.current_event.get_header_value("Idempotency-Key", case_sensitive=False)
    caller = app.current_event.request_context.identity.api_key_id
    accepted = orders.submit_order(_body(), key, caller)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return _json(202, {"orderId": accepted["order_id"], "executionArn": accepted["execution_arn"],
                       "status": Status.ACCEPTED})


@app.get("/orders/<order_id>")
@tracer.capture_method(capture_response=False)
def get_order(order_id: str) -> Response:
    return _json(200, order_view(orders.order_status(order_id)))


@app.post("/orders/<order_id>/approval")
@tracer.capture_method(capture_response=False)
def decide_approval(order_id: str) -> Response:
    _require(access.REVIEWER, "deciding an approval")
    body = _body()
    return _json(200, camel(approval.decide_approval(order_id, body.get("decision"), body.get("comment") or "")))


@app.post("/orders/batch")
@tracer.capture_method(capture_response=False)
def create_batch() -> Response:
    _require(access.CLIENT, "placing a batch")
    return _json(202, camel(batches.submit_batch(_body())))


@app.get("/batches/<batch_id>")
@tracer.capture_method(capture_response=False)
def get_batch(batch_id: str) -> Response:
    return _json(200, camel(batches.batch_status(batch_id)))


@app.post("/quotes")
@tracer.capture_method(capture_response=False)
def create_quote() -> Response:
    _require(access.CLIENT, "asking for a quote")
    return _json(200, camel(quotes.quote(_body())))


@app.post("/customers")
@tracer.capture_method(capture_response=False)
def create_customer() -> Response:
    _require(access.CLIENT, "creating a customer")
    return _json(201, camel(customers.create_customer(_body())))


@app.exception_handler(Exception)
def handle_error(exc: Exception) -> Response:
    if isinstance(exc, ServiceError):
        status, body = exc.status_code, {"error": type(exc).__name__, "message": exc.msg}
    else:
        status, body = error_body(exc)
    if status >= 500:
        logger.exception("request failed")
    else:
        logger.info("request rejected", extra={"status": status, "error_type": type(exc).__name__})
    return _json(status, body)


def _json(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
