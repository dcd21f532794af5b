"""EventBridge at the endpoint (JSON 1.1, ``X-Amz-Target: AWSEvents.<Operation>``): PutEvents is answered here
(models.EventBridge); moto answers every other operation, and one that changes rules or targets first drops the rule
cache of models.EventBridge."""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from local_runtime.errors import SerializationException, ServiceError
from local_runtime.protocols import json_response, parse_json_object, service_error_response

CONTENT_TYPE = "application/x-amz-json-1.1"
RULE_CHANGING_ACTIONS = frozenset({
    "PutRule", "DeleteRule", "EnableRule", "DisableRule", "PutTargets", "RemoveTargets", "CreateEventBus",
    "DeleteEventBus",
})


def put_events(eventbridge: Any, body: bytes) -> Response:
    try:
        result = eventbridge.put_events(parse_json_object(body))
    except ServiceError as exc:
        return service_error_response(exc, CONTENT_TYPE)
    except ValueError as exc:  # not a UTF-8 JSON object
        return service_error_response(SerializationException(str(exc)), CONTENT_TYPE)
    return json_response(result, content_type=CONTENT_TYPE)
