"""Order shape and format rules.

At the API the order is camelCase (``orderId``, ``customerId``, ``items[].sku/quantity``); everywhere inside
(execution input, SQS body, DynamoDB rows) it is snake_case:
``{"order_id", "customer_id", "items": [{"sku", "quantity"}], "received_at"}``; after validation each item also
carries ``unit_price_cents`` and the order ``total_cents`` (integer cents).
"""

import re
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from fulfillment.errors import InvalidOrderError, InvalidRequestError

ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MIN_QUANTITY = 1
MAX_QUANTITY = 100
MAX_ITEMS = 50


def utc_now() -> str:
    """Current time as ISO 8601 UTC with milliseconds, e.g. 2025-01-01T12:00:00.000Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms_to_iso(value: str | int) -> str:
    """SQS timestamp attribute (epoch milliseconds) to ISO 8601 UTC."""
    moment = datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """DynamoDB values to JSON-ready ones: Decimal -> int (or float), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
ECHO_LIMIT = 64


def brief(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``value`` as text for an error message, cut to ``limit`` characters: messages never echo unbounded input."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def check_unicode(value: Any, path: str = "$") -> None:
    """Raise InvalidRequestError for a string anywhere in ``value`` (keys too) holding a lone surrogate (``"\\ud800"``
    in JSON): valid JSON syntax, but no Unicode text; DynamoDB, SQS and Step Functions refuse it later, after the
    order was accepted."""
    if isinstance(value, str):
        match = _SURROGATE.search(value)
        if match:
            raise InvalidRequestError(f"{path} holds a lone surrogate (\\u{ord(match.group()):04x}): text must be "
                                      "valid Unicode")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_unicode(key, f"{path} (a key)")
            check_unicode(item, f"{path}.{brief(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_unicode(item, f"{path}[{index}]")


def check_order(order: Any) -> dict:
    """Check the format rules of an internal (snake_case) order; return a normalized copy.

    Raises InvalidOrderError naming the first broken rule.
    """
    if not isinstance(order, dict):
        raise InvalidOrderError("order must be an object")
    order_id = order.get("order_id")
    if not isinstance(order_id, str) or not ORDER_ID_PATTERN.match(order_id):
        raise InvalidOrderError("order_id must match ^[A-Za-z0-9_-]{1,64}$")
    customer_id = order.get("customer_id")
    if not isinstance(customer_id, str) or not customer_id.strip():
        raise InvalidOrderError("customer_id must be a non-empty string")
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "items": check_items(order.get("items")),
        "received_at": order.get("received_at") or utc_now(),
    }


def check_items(items: Any) -> list[dict]:
    """Check order lines (``[{"sku", "quantity"}]``); return normalized copies. Raises InvalidOrderError."""
    if not isinstance(items, list) or not items:
        raise InvalidOrderError("order must contain at least one item")
    if len(items) > MAX_ITEMS:
        raise InvalidOrderError(f"order may contain at most {MAX_ITEMS} items")
    normalized_items = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidOrderError(f"items[{index}] must be an object")
        sku = item.get("sku")
        quantity = item.get("quantity")
        if not isinstance(sku, str) or not sku.strip():
            raise InvalidOrderError(f"items[{index}].sku must be a non-empty string")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidOrderError(f"items[{index}].quantity must be an integer")
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise InvalidOrderError(
                f"items[{index}].quantity must lie between {MIN_QUANTITY} and {MAX_QUANTITY}, got {quantity}"
            )
        if sku in seen:
            raise InvalidOrderError(f"duplicate sku {brief(sku)}")
        seen.add(sku)
        normalized_items.append({"sku": sku, "quantity": quantity})
    return normalized_items


def order_from_request(body: Any, default_id: str | None = None) -> dict:
    """API request body (camelCase) to a normalized internal order; a missing ``orderId`` is ``default_id``, else a
    uuid4."""
    if not isinstance(body, dict):
        raise InvalidOrderError("request body must be a JSON object")
    items = body.get("items")
    if isinstance(items, list):
        items = [
            {"sku": item.get("sku"), "quantity": item.get("quantity")} if isinstance(item, dict) else item
            for item in items
        ]
    order_id = body.get("orderId")
    if order_id is None:
        order_id = default_id or str(uuid.uuid4())
    return check_order(
        {"order_id": order_id, "customer_id": body.get("customerId"), "items": items, "received_at": utc_now()}
    )


_API_NAMES = {
    "order_id": "orderId",
    "customer_id": "customerId",
    "status": "status",
    "payment_status": "paymentStatus",
    "reservation_status": "reservationStatus",
    "reason": "reason",
    "total_cents": "totalCents",
    "received_at": "receivedAt",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "fulfilled_at": "fulfilledAt",
    "failed_at": "failedAt",
    "approval_requested_at": "approvalRequestedAt",
    "approval_decision": "approvalDecision",
    "approval_comment": "approvalComment",
    "decided_at": "decidedAt",
}


def order_view(row: dict) -> dict:
    """An orders-table row as the API shows it (camelCase, only known fields)."""
    row = plain(row)
    view = {api: row[name] for name, api in _API_NAMES.items() if name in row}
    if "items" in row:
        view["items"] = [
            {
                "sku": item["sku"],
                "quantity": item["quantity"],
                **({"unitPriceCents": item["unit_price_cents"]} if "unit_price_cents" in item else {}),
            }
            for item in row["items"]
        ]
    return view


def camel(value: Any) -> Any:
    """snake_case keys to camelCase, recursively (DynamoDB numbers made plain)."""
    value = plain(value)
    if isinstance(value, dict):
        return {_camel_key(key): camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
