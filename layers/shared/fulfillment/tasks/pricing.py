"""Task PriceQuote of the Express quote workflow: looked-up lines priced into a quote (reads nothing, writes
nothing)."""

from fulfillment.status import Status


def price_quote(lines: list[dict]) -> dict:
    """Lines (with stock and price, or unknown) -> a quote."""
    items, unavailable, total = [], [], 0
    for line in lines:
        if not line.get("known"):
            items.append({"sku": line["sku"], "quantity": line["quantity"], "known": False})
            unavailable.append({"sku": line["sku"], "reason": Status.UNKNOWN_SKU})
            continue
        line_total = line["unit_price_cents"] * line["quantity"]
        total += line_total
        in_stock = line["stock"] >= line["quantity"]
        items.append({"sku": line["sku"], "quantity": line["quantity"], "known": True,
                      "unit_price_cents": line["unit_price_cents"], "line_total_cents": line_total,
                      "in_stock": in_stock})
        if not in_stock:
            unavailable.append({"sku": line["sku"], "reason": Status.INSUFFICIENT_STOCK})
    return {"items": items, "total_cents": total, "available": not unavailable, "unavailable": unavailable}
