"""Every status word of DOFS, defined once: one ``StrEnum`` per field that holds one.

A member is its word (``OrderStatus.FAILED == "FAILED"``, ``json.dumps`` writes ``"FAILED"``), so rows, events and
answers carry the same strings as before; code compares and writes members, never literals.

Which transitions an order's three states allow is not said here but in ``lifecycle.py``. The ASL files
(``statemachine/*.asl.json``) cannot import Python: ``tests/contract/test_lifecycle_asl.py`` checks that every status
literal they hold (Choice comparisons, Parameters, DynamoDB values and conditions) is a member of the enum its field
takes.
"""

from enum import StrEnum


class OrderStatus(StrEnum):
    """``status`` of an orders-table row (and of ``GET /orders/{orderId}``)."""

    RECEIVED = "RECEIVED"  # accepted by the API, its workflow has not stored it: no row
    PROCESSING = "PROCESSING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    FULFILLED = "FULFILLED"
    FAILED = "FAILED"


class PaymentStatus(StrEnum):
    """``payment_status`` of an order and ``status`` of its payments row (absent: never charged)."""

    CHARGED = "CHARGED"
    REFUNDED = "REFUNDED"


class ReservationStatus(StrEnum):
    """``reservation_status`` of an order (absent: nothing reserved); ReserveInventory's answer is RESERVED."""

    RESERVED = "RESERVED"
    RELEASED = "RELEASED"


class Outcome(StrEnum):
    """What a step answers when the answer is no state of a row."""

    ACCEPTED = "ACCEPTED"  # POST /orders; the order workflow's summary; a batch's child whose workflow succeeded
    SUCCESS = "SUCCESS"  # ChargePayment: charged (the order workflow's payment check)
    DECLINED = "DECLINED"  # the order workflow's payment check: the card was declined
    UNAVAILABLE = "UNAVAILABLE"  # its payment check (gateway down) or inventory check (stock gone)
    UNKNOWN = "UNKNOWN"  # its payment or inventory check: an error it does not name, the outcome is not known
    NOT_CHARGED = "NOT_CHARGED"  # RefundPayment: nothing was charged, nothing to refund
    NOT_RESERVED = "NOT_RESERVED"  # ReleaseInventory: nothing was reserved, nothing to release
    CANCELLED = "CANCELLED"  # FulfillOrder: the order is FAILED, nothing to ship, the message is done


class BatchStatus(StrEnum):
    """``status`` of a batches-table row."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"


class CustomerStatus(StrEnum):
    """``status`` of a customers-table row: only an ACTIVE customer may order."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class OnboardingStatus(StrEnum):
    """``onboarding_status`` of a customer, written by the onboarding workflow."""

    ONBOARDED = "ONBOARDED"


class LoyaltyTier(StrEnum):
    """``loyalty_tier`` of a customer, set by the onboarding workflow."""

    STANDARD = "STANDARD"


class FailureSource(StrEnum):
    """``source`` of a failed_orders row: where the order failed."""

    VALIDATION = "VALIDATION"  # the workflow rejected it (RecordRejection)
    WORKFLOW = "WORKFLOW"  # its workflow failed it after storing it, or handed it to the DLQ handler
    FULFILLMENT = "FULFILLMENT"  # SQS dead-lettered its fulfillment message


class Unavailability(StrEnum):
    """``reason`` of a line a quote cannot serve."""

    UNKNOWN_SKU = "UNKNOWN_SKU"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"


class ExecutionStatus(StrEnum):
    """A Step Functions execution's status, as DescribeExecution and StartSyncExecution answer it (AWS's words: read,
    never written)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"
