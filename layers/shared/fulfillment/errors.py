"""Domain errors. Leaf class names are an API: Step Functions matches them in ErrorEquals.

Lambda reports ``errorType`` as the bare class name, so rename a leaf only together with the ASL.
Base classes are never named in ASL.
"""


class FulfillmentError(Exception):
    """Base class of every DOFS error. Never named in ASL."""

    http_status = 500


class ConfigurationError(FulfillmentError):
    """A required environment variable is missing or malformed."""


class OrderRejectedError(FulfillmentError):
    """Base class: the order breaks a business or format rule (permanent). Never named in ASL."""

    http_status = 400


class InvalidOrderError(OrderRejectedError):
    """The order is malformed: no items, duplicate SKUs, quantity out of range, bad id."""


class CustomerNotFoundError(OrderRejectedError):
    """The order names a customer that does not exist."""


class CustomerInactiveError(OrderRejectedError):
    """The customer exists but is not ACTIVE."""


class UnknownSkuError(OrderRejectedError):
    """An item names a SKU absent from the inventory."""


class InsufficientStockError(OrderRejectedError):
    """An item asks for more units than the inventory holds."""


class OrderAlreadyExistsError(FulfillmentError):
    """An order with this id exists already (with different content, or its execution exists)."""

    http_status = 409


class OrderNotFoundError(FulfillmentError):
    """No order and no execution carries this id."""

    http_status = 404


class OrderStateConflictError(FulfillmentError):
    """The order is not in the status the operation expects."""

    http_status = 409


class FulfillmentFailedError(FulfillmentError):
    """Fulfillment of one order failed; the SQS record is reported as a batch item failure."""
