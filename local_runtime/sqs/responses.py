"""SQS message move tasks at the endpoint (JSON 1.0, ``X-Amz-Target: AmazonSQS.<Operation>``): the three operations
moto lacks, read and answered here (models.MessageMoveTasks does the work); every other SQS operation is moto's."""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from local_runtime.protocols import json_response
from local_runtime.sqs.exceptions import InvalidParameterValue, SqsError

CONTENT_TYPE = "application/x-amz-json-1.0"
ACTIONS = ("StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask")


def message_move_task(tasks: Any, action: str, body: bytes) -> Response:
    """One of ACTIONS on ``tasks`` (models.MessageMoveTasks), from its JSON request body."""
    try:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise ValueError("the request body must be a JSON object")
        operation = {"StartMessageMoveTask": tasks.start, "ListMessageMoveTasks": tasks.list,
                     "CancelMessageMoveTask": tasks.cancel}[action]
        result = operation(request)
    except ValueError as exc:
        return _error(InvalidParameterValue(f"Malformed request: {exc}"))
    except SqsError as exc:
        return _error(exc)
    return json_response(result, content_type=CONTENT_TYPE)


def _error(exc: SqsError) -> Response:
    return json_response(exc.to_json(), status=exc.status, headers=exc.headers(), content_type=CONTENT_TYPE)
