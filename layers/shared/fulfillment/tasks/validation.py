"""Task ValidateOrder: the business rules an order must pass before it is stored."""

from fulfillment import repository
from fulfillment.errors import CustomerInactiveError, CustomerNotFoundError
from fulfillment.models import brief, check_order
from fulfillment.status import Status
from fulfillment.tasks.reservation import in_stock


def validate_order(order: dict) -> dict:
    """Business rules: format, customer ACTIVE, every SKU known and in stock. Returns the priced order."""
    order = check_order(order)
    customer = repository.get_customer(order["customer_id"])
    if customer is None:
        raise CustomerNotFoundError(f"customer {brief(order['customer_id'])} does not exist")
    if customer.get("status") != Status.ACTIVE:
        raise CustomerInactiveError(f"customer {brief(order['customer_id'])} is {customer.get('status')}, "
                                    f"not {Status.ACTIVE}")
    total_cents = 0
    for item in order["items"]:
        stock_item = in_stock(item)
        item["unit_price_cents"] = int(stock_item["price_cents"])
        total_cents += item["unit_price_cents"] * item["quantity"]
    order["total_cents"] = total_cents
    return order
