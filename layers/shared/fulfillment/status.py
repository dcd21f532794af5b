"""Every status word of DOFS, defined once, in one enum.

A member is its word (``Status.FAILED == "FAILED"``, ``json.dumps`` writes ``"FAILED"``), so rows, events and answers
carry the same strings as before; code compares and writes members, never literals (a contract test holds the code
to that).

Which words an order's three state fields take, and the transitions between them, is ``lifecycle.py``'s to say. The
ASL files (``statemachine/*.asl.json``) cannot import Python: ``tests/contract/test_lifecycle_asl.py`` checks that
every status literal they hold (Choice comparisons, Parameters, DynamoDB values and conditions) is a member, one of
the words its field takes.
"""

from enum import StrEnum


class Status(StrEnum):
    # an order's ``status`` (orders table, GET /orders/{orderId}); also a Step Functions execution's FAILED
    RECEIVED = "RECEIVED"  # accepted by the API, its workflow has not stored it: no row
    PROCESSING = "PROCESSING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    FULFILLED = "FULFILLED"
    FAILED = "FAILED"
    # an order's ``payment_status`` and its payments row's ``status`` (absent: never charged)
    CHARGED = "CHARGED"
    REFUNDED = "REFUNDED"
    # an order's ``reservation_status`` (absent: nothing reserved); ReserveInventory answers RESERVED too
    RESERVED = "RESERVED"
    RELEASED = "RELEASED"

    # what a step answers when the answer is no state of a row
    ACCEPTED = "ACCEPTED"  # POST /orders; the order workflow's summary; a batch's child whose workflow succeeded
    SUCCESS = "SUCCESS"  # ChargePayment: charged (the order workflow's payment check)
    DECLINED = "DECLINED"  # the order workflow's payment check: the card was declined
    UNAVAILABLE = "UNAVAILABLE"  # its payment check (gateway down) or inventory check (stock gone)
    UNKNOWN = "UNKNOWN"  # its payment or inventory check: an error it does not name, the outcome is not known
    NOT_CHARGED = "NOT_CHARGED"  # RefundPayment: nothing was charged, nothing to refund
    NOT_RESERVED = "NOT_RESERVED"  # ReleaseInventory: nothing was reserved, nothing to release
    CANCELLED = "CANCELLED"  # FulfillOrder: the order is FAILED, nothing to ship, the message is done

    # a batch's ``status`` (batches table); also a Step Functions execution's RUNNING
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"

    # a customer's ``status`` (only an ACTIVE customer may order); the onboarding workflow's ``onboarding_status``
    # and ``loyalty_tier``
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ONBOARDED = "ONBOARDED"
    STANDARD = "STANDARD"

    # a failed_orders row's ``source``: where the order failed
    VALIDATION = "VALIDATION"  # the workflow rejected it (RecordRejection)
    WORKFLOW = "WORKFLOW"  # its workflow failed it after storing it, or handed it to the DLQ handler
    FULFILLMENT = "FULFILLMENT"  # SQS dead-lettered its fulfillment message

    # a quote line's ``reason`` when the quote cannot serve it
    UNKNOWN_SKU = "UNKNOWN_SKU"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"

    # a Step Functions execution's status as DescribeExecution and StartSyncExecution answer it (AWS's words, read
    # only), besides RUNNING and FAILED above
    SUCCEEDED = "SUCCEEDED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"
