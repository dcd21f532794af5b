"""REST API: POST /orders starts the order workflow (202); GET /orders/{orderId} reports its status."""

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfillment import service
from fulfillment.errors import InvalidOrderError
from fulfillment.http_errors import error_body
from fulfillment.models import order_view
from fulfillment.observability import logger, metrics, tracer

app = APIGatewayRestResolver()


@app.post("/orders")
@tracer.capture_method(capture_response=False)
def create_order() -> Response:
    try:
        body = json.loads(app.current_event.decoded_body or "")
    except json.JSONDecodeError as exc:
        raise InvalidOrderError("request body is not valid JSON") from exc
    accepted = service.submit_order(body)
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return _json(202, {"orderId": accepted["order_id"], "executionArn": accepted["execution_arn"],
                       "status": "ACCEPTED"})


@app.get("/orders/<order_id>")
@tracer.capture_method(capture_response=False)
def get_order(order_id: str) -> Response:
    return _json(200, order_view(service.order_status(order_id)))


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
    return app.resolve(event, context)
