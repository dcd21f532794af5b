"""Environment variable names, defined once, read lazily, failing loudly when missing."""

import os

from fulfillment.errors import ConfigurationError

ORDERS_TABLE_NAME = "ORDERS_TABLE_NAME"
FAILED_ORDERS_TABLE_NAME = "FAILED_ORDERS_TABLE_NAME"
CUSTOMERS_TABLE_NAME = "CUSTOMERS_TABLE_NAME"
INVENTORY_TABLE_NAME = "INVENTORY_TABLE_NAME"
ORDER_STATE_MACHINE_ARN = "ORDER_STATE_MACHINE_ARN"
FULFILLMENT_SUCCESS_RATE = "FULFILLMENT_SUCCESS_RATE"
PAYMENTS_TABLE_NAME = "PAYMENTS_TABLE_NAME"
BATCHES_TABLE_NAME = "BATCHES_TABLE_NAME"
IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
BATCH_STATE_MACHINE_ARN = "BATCH_STATE_MACHINE_ARN"
QUOTE_STATE_MACHINE_ARN = "QUOTE_STATE_MACHINE_ARN"
EVENT_BUS_NAME = "EVENT_BUS_NAME"
REVIEWER_API_KEY_ID = "REVIEWER_API_KEY_ID"


def require(name: str) -> str:
    """Return the value of environment variable ``name``; raise ConfigurationError when unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def success_rate() -> float:
    """FULFILLMENT_SUCCESS_RATE as a float in [0, 1]."""
    raw = require(FULFILLMENT_SUCCESS_RATE)
    try:
        rate = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{FULFILLMENT_SUCCESS_RATE} is not a number: {raw!r}") from exc
    if not 0.0 <= rate <= 1.0:
        raise ConfigurationError(f"{FULFILLMENT_SUCCESS_RATE} must lie in [0, 1], got {rate}")
    return rate
