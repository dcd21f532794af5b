"""An order's fate in one place: its states, the transitions allowed between them, and the DynamoDB conditions that
enforce them when writers race.

An order row (orders table) carries three states side by side:

* ``status``: RECEIVED (accepted, no row yet) -> PROCESSING <-> AWAITING_APPROVAL -> FULFILLED | FAILED;
* ``payment_status``: (none) -> CHARGED -> REFUNDED; the payments table holds the charge itself and is written in the
  same transaction;
* ``reservation_status``: (none) -> RESERVED -> RELEASED; the inventory counts move in the same transaction.

The words are members of ``Status`` (``status.py``, where every status word of DOFS is defined); this module owns
which of them each field holds and which moves between them are allowed.

Every writer performs one of ``TRANSITIONS`` as one conditional write (or transaction) whose condition is
``condition(name)``: the Lambda handlers through ``repository.py``, and the order workflow's direct DynamoDB tasks
(``UpdateOrderFailed``, ``MarkOrderFailed`` in statemachine/order.asl.json carry the same expressions, checked by
tests/contract/test_lifecycle_asl.py). DynamoDB applies a conditional write atomically, so of two writers that race
exactly one wins, and the loser learns it (ConditionalCheckFailed / TransactionCanceled) instead of overwriting.

The rules that close the races of issue 11:

* money and stock are taken only while the order is PROCESSING (``charge``, ``reserve``) and given back only once it is
  FAILED (``refund``, ``release``): a failure is decided first, then compensated, so a charge or reservation that
  lands late is either before the decision (and compensated after it) or after it (and refused);
* FULFILLED only from PROCESSING with the payment CHARGED and the stock RESERVED, and FAILED never from FULFILLED:
  the consumer's FULFILLED and the workflow's (or the DLQ handler's) FAILED cannot both win, and the compensation,
  which needs FAILED, never touches a fulfilled order.
"""
from __future__ import annotations

from dataclasses import dataclass

from fulfillment.status import Status

STATUS = "status"
PAYMENT = "payment_status"
RESERVATION = "reservation_status"
# the words each field can hold (members of fulfillment/status.py's Status); None: the attribute is absent (RECEIVED:
# the row is)
STATES: dict[str, tuple[str | None, ...]] = {
    STATUS: (Status.RECEIVED, Status.PROCESSING, Status.AWAITING_APPROVAL, Status.FULFILLED, Status.FAILED),
    PAYMENT: (None, Status.CHARGED, Status.REFUNDED),
    RESERVATION: (None, Status.RESERVED, Status.RELEASED),
}
TERMINAL = (Status.FULFILLED, Status.FAILED)


@dataclass(frozen=True)
class Transition:
    name: str
    field: str
    sources: tuple[str | None, ...]  # values of ``field`` it may start from
    target: str
    requires: tuple[tuple[str, tuple[str | None, ...]], ...] = ()  # other fields and the values they must hold
    writers: str = ""


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("store", STATUS, (Status.RECEIVED,), Status.PROCESSING, writers="StoreOrder"),
    Transition("await_approval", STATUS, (Status.PROCESSING, Status.AWAITING_APPROVAL),
               Status.AWAITING_APPROVAL,
               writers="AwaitApproval (RequestApprovalFunction); a redelivered request repeats it"),
    Transition("approve", STATUS, (Status.AWAITING_APPROVAL,), Status.PROCESSING,
               writers="POST /orders/{orderId}/approval"),
    Transition("reject", STATUS, (Status.AWAITING_APPROVAL,), Status.FAILED,
               writers="POST /orders/{orderId}/approval"),
    Transition("fulfil", STATUS, (Status.PROCESSING,), Status.FULFILLED,
               ((PAYMENT, (Status.CHARGED,)), (RESERVATION, (Status.RESERVED,))),
               writers="FulfillOrderFunction"),
    Transition("fail", STATUS,
               (Status.RECEIVED, Status.PROCESSING, Status.AWAITING_APPROVAL, Status.FAILED),
               Status.FAILED,
               writers="UpdateOrderFailed (workflow), DlqHandlerFunction; repeating it keeps the first reason"),
    Transition("reject_unstored", STATUS, (Status.RECEIVED,), Status.FAILED,
               writers="MarkOrderFailed (workflow: a rejected order, never stored)"),
    Transition("charge", PAYMENT, (None,), Status.CHARGED, ((STATUS, (Status.PROCESSING,)),),
               writers="ChargePaymentFunction"),
    Transition("refund", PAYMENT, (Status.CHARGED,), Status.REFUNDED, ((STATUS, (Status.FAILED,)),),
               writers="RefundPaymentFunction, DlqHandlerFunction"),
    Transition("reserve", RESERVATION, (None,), Status.RESERVED, ((STATUS, (Status.PROCESSING,)),),
               writers="ReserveInventoryFunction"),
    Transition("release", RESERVATION, (Status.RESERVED,), Status.RELEASED,
               ((STATUS, (Status.FAILED,)),), writers="ReleaseInventoryFunction, DlqHandlerFunction"),
)}


def state_of(row: dict | None) -> dict[str, str | None]:
    """The three fields of an orders-table row (None: no row, i.e. RECEIVED)."""
    if row is None:
        return {STATUS: Status.RECEIVED, PAYMENT: None, RESERVATION: None}
    return {STATUS: row.get(STATUS, Status.RECEIVED), PAYMENT: row.get(PAYMENT),
            RESERVATION: row.get(RESERVATION)}


def allows(name: str, row: dict | None) -> bool:
    """Whether transition ``name`` may start from ``row`` (an orders-table row, a ``state_of`` dict, or None)."""
    transition = TRANSITIONS[name]
    state = state_of(row)
    if state[transition.field] not in transition.sources:
        return False
    return all(state[field] in values for field, values in transition.requires)


def after(name: str, row: dict | None) -> dict[str, str | None]:
    """The state ``row`` is in after transition ``name`` (which it must allow)."""
    if not allows(name, row):
        raise ValueError(f"{name} is not allowed from {state_of(row)}")
    transition = TRANSITIONS[name]
    state = state_of(row)
    state[transition.field] = transition.target
    return state


@dataclass(frozen=True)
class Condition:
    """A DynamoDB ConditionExpression with its placeholders (plain values, as boto3's resource API takes them)."""

    expression: str
    names: dict[str, str]
    values: dict[str, str]


def _field_clause(field: str, values: tuple[str | None, ...], names: dict, placeholders: dict) -> str:
    clauses = []
    if None in values or (field == STATUS and Status.RECEIVED in values):
        # no row at all for RECEIVED; an absent attribute for the others
        clauses.append("attribute_not_exists(order_id)" if field == STATUS else f"attribute_not_exists(#{field})")
    present = [value for value in values
               if value is not None and not (field == STATUS and value == Status.RECEIVED)]
    if present:
        names[f"#{field}"] = field
        keys = []
        for value in present:
            key = f":{field}_{len(keys)}"
            placeholders[key] = value
            keys.append(key)
        clauses.append(f"#{field} = {keys[0]}" if len(keys) == 1 else f"#{field} IN ({', '.join(keys)})")
    if field != STATUS and None in values:
        names[f"#{field}"] = field
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"


def condition(name: str) -> Condition:
    """The condition under which DynamoDB performs transition ``name`` on an orders-table row."""
    transition = TRANSITIONS[name]
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    clauses = [_field_clause(transition.field, transition.sources, names, values)]
    for field, allowed in transition.requires:
        clauses.append(_field_clause(field, allowed, names, values))
    return Condition(" AND ".join(clauses), names, values)
