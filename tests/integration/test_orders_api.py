"""The order API's scenarios over HTTP, identical against the local runtime and a deployed stack.

Each test seeds the customers and products it needs under unique ids and deletes them afterwards, so it neither
depends on nor disturbs the sample data of the stack it runs against.
"""
import uuid

import pytest

from tests.support.orders import new_order_id, place_order, wait_terminal


@pytest.fixture
def catalogue(stack):
    """An ACTIVE and a SUSPENDED customer and one product with stock, unique to this test."""
    tag = uuid.uuid4().hex[:8].upper()
    customers, inventory = stack.table("CustomersTableName"), stack.table("InventoryTableName")
    seeded = {
        "active": f"CUST-IT-{tag}-A",
        "suspended": f"CUST-IT-{tag}-S",
        "sku": f"SKU-IT-{tag}",
    }
    customers.put_item(Item={"customer_id": seeded["active"], "name": "Active", "status": "ACTIVE"})
    customers.put_item(Item={"customer_id": seeded["suspended"], "name": "Suspended", "status": "SUSPENDED"})
    inventory.put_item(Item={"sku": seeded["sku"], "name": "Test product", "price_cents": 1250, "stock": 1000})
    yield seeded
    customers.delete_item(Key={"customer_id": seeded["active"]})
    customers.delete_item(Key={"customer_id": seeded["suspended"]})
    inventory.delete_item(Key={"sku": seeded["sku"]})


def test_valid_order_is_accepted_and_reaches_a_terminal_status(stack, catalogue):
    order_id = new_order_id("IT")
    response = place_order(stack.api(), {"orderId": order_id, "customerId": catalogue["active"],
                                           "items": [{"sku": catalogue["sku"], "quantity": 2}]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["orderId"] == order_id
    assert body["status"] == "ACCEPTED"
    assert body["executionArn"].endswith(f":{order_id}")
    view = wait_terminal(stack.api(), [order_id], timeout=120)[order_id]
    if stack.success_rate == 1:   # the local stack, or a deployed one run at rate 1: fulfilment cannot fail
        assert (view["status"], "FAILED" in view["_seen"]) == ("FULFILLED", False)
    elif view["status"] == "FAILED":   # below rate 1 the DLQ path may have run, and only that path
        row = stack.table("FailedOrdersTableName").get_item(Key={"order_id": order_id})
        assert row["Item"]["source"] == "FULFILLMENT"
    else:
        assert view["status"] == "FULFILLED"


def test_order_from_a_suspended_customer_is_rejected(stack, catalogue):
    order_id = new_order_id("IT-REJ")
    response = place_order(stack.api(), {"orderId": order_id, "customerId": catalogue["suspended"],
                                           "items": [{"sku": catalogue["sku"], "quantity": 1}]})
    assert response.status_code == 202, response.text
    view = wait_terminal(stack.api(), [order_id], timeout=60)[order_id]
    assert view["status"] == "FAILED"
    assert "CustomerInactiveError" in view["reason"]
    row = stack.table("FailedOrdersTableName").get_item(Key={"order_id": order_id})["Item"]
    assert "CustomerInactiveError" in row["reason"]


def test_unknown_sku_is_rejected(stack, catalogue):
    order_id = new_order_id("IT-SKU")
    place_order(stack.api(), {"orderId": order_id, "customerId": catalogue["active"],
                                "items": [{"sku": "SKU-DOES-NOT-EXIST", "quantity": 1}]})
    view = wait_terminal(stack.api(), [order_id], timeout=60)[order_id]
    assert view["status"] == "FAILED"
    assert "UnknownSkuError" in view["reason"]


@pytest.mark.parametrize("body", [
    {"customerId": "CUST-001", "items": []},
    {"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 0}]},
    {"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}], "extra": True},
    {"orderId": "has spaces", "customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}]},
])
def test_malformed_order_is_rejected_by_the_api_model(stack, body):
    response = place_order(stack.api(), body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("Invalid request body")


def test_same_order_id_twice_is_a_conflict(stack, catalogue):
    order_id = new_order_id("IT-DUP")
    body = {"orderId": order_id, "customerId": catalogue["active"], "items": [{"sku": catalogue["sku"], "quantity": 1}]}
    assert place_order(stack.api(), body).status_code == 202
    wait_terminal(stack.api(), [order_id], timeout=120)
    second = place_order(stack.api(), body)
    assert second.status_code == 409, second.text


def test_unknown_order_is_not_found(stack):
    response = stack.api().get(f"orders/{new_order_id('IT-NONE')}")
    assert response.status_code == 404
