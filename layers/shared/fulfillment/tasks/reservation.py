"""Task ReserveInventory: the order's stock taken once, all items or none (lifecycle ``reserve``); and the stock check
ValidateOrder shares with it."""

from fulfillment import lifecycle, repository
from fulfillment.errors import InsufficientStockError, OrderNotFoundError, OrderStateConflictError, UnknownSkuError
from fulfillment.models import brief, utc_now
from fulfillment.status import Status


def in_stock(item: dict) -> dict:
    """The inventory row of an order line; UnknownSkuError / InsufficientStockError when it cannot be served."""
    stock_item = repository.get_inventory_item(item["sku"])
    if stock_item is None:
        raise UnknownSkuError(f"sku {brief(item['sku'])} does not exist")
    stock = int(stock_item.get("stock", 0))
    if stock < item["quantity"]:
        raise InsufficientStockError(f"sku {brief(item['sku'])}: {item['quantity']} requested, {stock} in stock")
    return stock_item


def reserve_inventory(order_id: str, items: list[dict]) -> dict:
    """Take the items' stock for the order, all or nothing, once, only while the order is PROCESSING (lifecycle
    ``reserve``).

    Raises InsufficientStockError / UnknownSkuError when stock was sold since validation, OrderStateConflictError
    when the order has left PROCESSING (a reservation arriving after the order was decided FAILED).
    """
    if repository.reserve_stock(order_id, items, utc_now()):
        return {"order_id": order_id, "status": Status.RESERVED}
    current = repository.get_order(order_id)
    if current is None:
        raise OrderNotFoundError(f"order {order_id} not found")
    state = lifecycle.state_of(current)
    if state["reservation_status"] == Status.RESERVED:
        return {"order_id": order_id, "status": Status.RESERVED}
    if not lifecycle.allows("reserve", current):
        raise OrderStateConflictError(f"order {order_id} is {state['status']} (reservation "
                                      f"{state['reservation_status']}): reservation refused")
    for item in items:
        in_stock(item)
    raise OrderStateConflictError(f"order {order_id}: stock changed during the reservation, try again")
