"""POST /quotes: a price and stock check, answered by the Express quote workflow within the request."""

import json

from fulfillment import config, repository
from fulfillment.errors import QuoteFailedError
from fulfillment.models import check_items
from fulfillment.status import Status


def quote(body: dict) -> dict:
    """Price and stock check, answered by the Express quote workflow within the request."""
    items = check_items(body.get("items") if isinstance(body, dict) else None)
    result = repository.start_sync_execution(config.QUOTE_STATE_MACHINE_ARN, {"items": items})
    if result["status"] != Status.SUCCEEDED:
        raise QuoteFailedError(f"quote workflow ended {result['status']}: {result['error']}")
    return json.loads(result["output"])
