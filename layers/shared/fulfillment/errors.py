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


class PaymentError(FulfillmentError):
    """Base class of payment outcomes other than success. Never named in ASL."""


class PaymentGatewayTimeout(PaymentError):
    """The payment gateway did not answer in time (transient: ChargePayment retries it)."""


class PaymentProcessingError(PaymentError):
    """The payment gateway failed to process the charge (transient: ChargePayment retries it)."""


class PaymentFailedError(PaymentError):
    """The card was declined (permanent: ChargePayment catches it and the order is compensated)."""


class ApprovalRejectedError(FulfillmentError):
    """A reviewer rejected the order. Sent as the error of SendTaskFailure; AwaitApproval catches it."""


class ApprovalNotPendingError(FulfillmentError):
    """The order is not awaiting approval, or its approval task has already ended."""

    http_status = 409


class InvalidRequestError(FulfillmentError):
    """A request body breaks a rule the API model cannot express."""

    http_status = 400


class AccessDeniedError(FulfillmentError):
    """The caller's API key does not open this route (a client deciding an approval, a reviewer placing orders)."""

    http_status = 403


class RequestInProgressError(FulfillmentError):
    """A request with the same Idempotency-Key is still being processed."""

    http_status = 409


class IdempotencyKeyReusedError(FulfillmentError):
    """The Idempotency-Key was already used with a different request body."""

    http_status = 422


class BatchNotFoundError(FulfillmentError):
    """No batch carries this id."""

    http_status = 404


class CustomerAlreadyExistsError(FulfillmentError):
    """A customer with this id exists already."""

    http_status = 409


class QuoteFailedError(FulfillmentError):
    """The quote workflow did not succeed."""

    http_status = 502


class EventPublishError(FulfillmentError):
    """EventBridge rejected an event entry."""
