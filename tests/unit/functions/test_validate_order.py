"""ValidateOrder task: each business rule raises the leaf error the workflow catches."""

import pytest

from fulfillment.errors import (
    CustomerInactiveError,
    CustomerNotFoundError,
    InsufficientStockError,
    InvalidOrderError,
    UnknownSkuError,
)
from functions.validate_order import app


def order_event(**overrides):
    order = {
        "order_id": "ORDER-V-1",
        "customer_id": "CUST-001",
        "items": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-002", "quantity": 2}],
        "received_at": "2025-11-22T09:00:00.000Z",
    }
    order.update(overrides)
    return {"order": order}


def test_valid_order_is_priced(aws, lambda_context, load_event):
    # GIVEN the sample event (CUST-001 is ACTIVE, both SKUs in stock)
    event = load_event("validate_order.json")
    # WHEN
    result = app.lambda_handler(event, lambda_context)
    # THEN prices come from the inventory and the total is in integer cents
    assert result == {
        "order_id": "ORDER-EVENT-0001",
        "customer_id": "CUST-001",
        "items": [
            {"sku": "SKU-001", "quantity": 1, "unit_price_cents": 8999},
            {"sku": "SKU-002", "quantity": 2, "unit_price_cents": 1299},
        ],
        "total_cents": 11597,
        "received_at": "2025-11-22T09:00:00.000Z",
    }


def test_unknown_customer_is_rejected(aws, lambda_context):
    with pytest.raises(CustomerNotFoundError) as caught:
        app.lambda_handler(order_event(customer_id="CUST-404"), lambda_context)
    assert str(caught.value) == "customer CUST-404 does not exist"


def test_suspended_customer_is_rejected(aws, lambda_context):
    with pytest.raises(CustomerInactiveError) as caught:
        app.lambda_handler(order_event(customer_id="CUST-003"), lambda_context)
    assert str(caught.value) == "customer CUST-003 is SUSPENDED, not ACTIVE"


def test_unknown_sku_is_rejected(aws, lambda_context):
    with pytest.raises(UnknownSkuError) as caught:
        app.lambda_handler(order_event(items=[{"sku": "SKU-999", "quantity": 1}]), lambda_context)
    assert str(caught.value) == "sku SKU-999 does not exist"


def test_out_of_stock_sku_is_rejected(aws, lambda_context):
    with pytest.raises(InsufficientStockError) as caught:
        app.lambda_handler(order_event(items=[{"sku": "SKU-004", "quantity": 1}]), lambda_context)
    assert str(caught.value) == "sku SKU-004: 1 requested, 0 in stock"


def test_more_than_stock_is_rejected(aws, lambda_context):
    with pytest.raises(InsufficientStockError) as caught:
        app.lambda_handler(order_event(items=[{"sku": "SKU-003", "quantity": 6}]), lambda_context)
    assert str(caught.value) == "sku SKU-003: 6 requested, 5 in stock"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"items": []}, "order must contain at least one item"),
        ({"items": [{"sku": "SKU-001", "quantity": 0}]}, "items[0].quantity must lie between 1 and 100, got 0"),
        ({"items": [{"sku": "SKU-001", "quantity": 101}]}, "items[0].quantity must lie between 1 and 100, got 101"),
        ({"items": [{"sku": "SKU-001", "quantity": True}]}, "items[0].quantity must be an integer"),
        ({"items": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-001", "quantity": 2}]}, "duplicate sku SKU-001"),
        ({"customer_id": ""}, "customer_id must be a non-empty string"),
        ({"order_id": "has space"}, "order_id must match ^[A-Za-z0-9_-]{1,64}$"),
    ],
)
def test_malformed_order_is_rejected(aws, lambda_context, overrides, message):
    with pytest.raises(InvalidOrderError) as caught:
        app.lambda_handler(order_event(**overrides), lambda_context)
    assert str(caught.value) == message


def test_missing_order_is_rejected(aws, lambda_context):
    with pytest.raises(InvalidOrderError) as caught:
        app.lambda_handler({}, lambda_context)
    assert str(caught.value) == "order must be an object"
