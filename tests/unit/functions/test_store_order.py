"""StoreOrder task: conditional insert with status PROCESSING, never an overwrite."""

import pytest

from fulfillment.errors import OrderAlreadyExistsError
from functions.store_order import app


def test_order_is_stored_processing(aws, orders_table, lambda_context, load_event):
    event = load_event("store_order.json")
    result = app.lambda_handler(event, lambda_context)
    row = orders_table.get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]
    assert result == {"order_id": "ORDER-EVENT-0001", "status": "PROCESSING", "created_at": row["created_at"]}
    assert row["status"] == "PROCESSING"
    assert row["customer_id"] == "CUST-001"
    assert row["total_cents"] == 11597
    assert row["items"] == [
        {"sku": "SKU-001", "quantity": 1, "unit_price_cents": 8999},
        {"sku": "SKU-002", "quantity": 2, "unit_price_cents": 1299},
    ]
    assert row["received_at"] == "2025-11-22T09:00:00.000Z"


def test_replay_of_same_order_returns_stored_row(aws, orders_table, lambda_context, load_event):
    # GIVEN the order stored once (e.g. a Lambda retry after a successful write)
    first = app.lambda_handler(load_event("store_order.json"), lambda_context)
    orders_table.update_item(
        Key={"order_id": "ORDER-EVENT-0001"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "FULFILLED"},
    )
    # WHEN stored again
    second = app.lambda_handler(load_event("store_order.json"), lambda_context)
    # THEN nothing is overwritten
    assert second == {"order_id": "ORDER-EVENT-0001", "status": "FULFILLED", "created_at": first["created_at"]}
    assert orders_table.get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]["status"] == "FULFILLED"


def test_different_order_with_same_id_is_refused(aws, orders_table, lambda_context, load_event):
    app.lambda_handler(load_event("store_order.json"), lambda_context)
    other = load_event("store_order.json")
    other["order"]["customer_id"] = "CUST-002"
    with pytest.raises(OrderAlreadyExistsError) as caught:
        app.lambda_handler(other, lambda_context)
    assert str(caught.value) == "order ORDER-EVENT-0001 already exists"
    assert orders_table.get_item(Key={"order_id": "ORDER-EVENT-0001"})["Item"]["customer_id"] == "CUST-001"
