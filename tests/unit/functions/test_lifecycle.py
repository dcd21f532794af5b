"""The order lifecycle (fulfillment/lifecycle.py) as a table: every transition from every state, allowed or refused,
first in the model, then as the conditional write DynamoDB performs (moto), so the code that writes cannot disagree
with the table."""

import itertools

import pytest

from fulfillment import lifecycle, repository
from fulfillment.lifecycle import PAYMENT, RESERVATION, STATUS
from tests.unit.functions.conftest import TABLE_ENV

# The words as the rows hold them (fulfillment/status.py defines them; written out here so the table checks them too)
RECEIVED, PROCESSING, AWAITING_APPROVAL, FULFILLED, FAILED = (
    "RECEIVED", "PROCESSING", "AWAITING_APPROVAL", "FULFILLED", "FAILED")
CHARGED, REFUNDED, RESERVED, RELEASED = "CHARGED", "REFUNDED", "RESERVED", "RELEASED"

# The specification, written out by hand: (transition, field, from, to, what the other fields must hold).
# Every (transition, state) pair not allowed here must be refused.
ALLOWED = {
    ("store", STATUS, RECEIVED, PROCESSING, ()),
    ("await_approval", STATUS, PROCESSING, AWAITING_APPROVAL, ()),
    ("await_approval", STATUS, AWAITING_APPROVAL, AWAITING_APPROVAL, ()),
    ("approve", STATUS, AWAITING_APPROVAL, PROCESSING, ()),
    ("reject", STATUS, AWAITING_APPROVAL, FAILED, ()),
    ("fulfil", STATUS, PROCESSING, FULFILLED, ((PAYMENT, CHARGED), (RESERVATION, RESERVED))),
    ("fail", STATUS, RECEIVED, FAILED, ()),
    ("fail", STATUS, PROCESSING, FAILED, ()),
    ("fail", STATUS, AWAITING_APPROVAL, FAILED, ()),
    ("fail", STATUS, FAILED, FAILED, ()),
    ("reject_unstored", STATUS, RECEIVED, FAILED, ()),
    ("charge", PAYMENT, None, CHARGED, ((STATUS, PROCESSING),)),
    ("refund", PAYMENT, CHARGED, REFUNDED, ((STATUS, FAILED),)),
    ("reserve", RESERVATION, None, RESERVED, ((STATUS, PROCESSING),)),
    ("release", RESERVATION, RESERVED, RELEASED, ((STATUS, FAILED),)),
}

STATES = [dict(zip((STATUS, PAYMENT, RESERVATION), values))
          for values in itertools.product(*lifecycle.STATES.values())
          # a row that does not exist holds neither a payment nor a reservation
          if values[0] != RECEIVED or values[1:] == (None, None)]
CASES = [(name, state) for name in lifecycle.TRANSITIONS for state in STATES]


def expected(name: str, state: dict) -> dict | None:
    """The state after ``name`` per ALLOWED, or None when refused."""
    for transition, field, source, target, requires in ALLOWED:
        if transition == name and state[field] == source and all(state[f] == v for f, v in requires):
            return {**state, field: target}
    return None


def test_the_table_covers_every_transition_and_every_state():
    assert {rule[0] for rule in ALLOWED} == set(lifecycle.TRANSITIONS)
    assert len(STATES) == 1 + 4 * 3 * 3
    refused = sum(1 for name, state in CASES if expected(name, state) is None)
    assert (len(CASES), len(CASES) - refused) == (11 * 37, 79)


@pytest.mark.parametrize(("name", "state"), CASES, ids=lambda v: v if isinstance(v, str) else
                         "-".join(str(x) for x in v.values()))
def test_model(name, state):
    after = expected(name, state)
    assert lifecycle.allows(name, state) is (after is not None)
    if after is None:
        with pytest.raises(ValueError):
            lifecycle.after(name, state)
    else:
        assert lifecycle.after(name, state) == after


def test_nothing_leaves_a_terminal_status_but_a_repeated_failure_and_the_compensation_of_a_failed_order():
    for name, state in CASES:
        if state[STATUS] == FULFILLED:
            assert not lifecycle.allows(name, state), (name, state)
        if state[STATUS] == FAILED and lifecycle.allows(name, state):
            assert name in ("fail", "refund", "release"), (name, state)


ORDER_ID = "LIFECYCLE-1"


def put_state(aws, state: dict) -> None:
    table = aws.Table(TABLE_ENV["OrdersTable"][1])
    table.delete_item(Key={"order_id": ORDER_ID})
    if state[STATUS] == RECEIVED:
        return
    row = {"order_id": ORDER_ID, "status": state[STATUS], "items": [{"sku": "SKU-002", "quantity": 1}]}
    row.update({field: state[field] for field in (PAYMENT, RESERVATION) if state[field] is not None})
    table.put_item(Item=row)


def read_state(aws) -> dict:
    return lifecycle.state_of(aws.Table(TABLE_ENV["OrdersTable"][1]).get_item(
        Key={"order_id": ORDER_ID}, ConsistentRead=True).get("Item"))


def perform(aws, name: str) -> bool:
    """Transition ``name`` as the code that owns it writes it (repository.py; UpdateOrderFailed and MarkOrderFailed
    carry the same conditions in the workflow, tests/contract/test_lifecycle_asl.py)."""
    now = "2026-01-01T00:00:00.000Z"
    if name == "charge":
        return repository.record_charge({"order_id": ORDER_ID, "charge_id": "ch_1", "amount_cents": 1299,
                                         "status": CHARGED, "charged_at": now}, now)
    if name == "refund":
        aws.Table(TABLE_ENV["PaymentsTable"][1]).put_item(Item={"order_id": ORDER_ID, "charge_id": "ch_1",
                                                                "amount_cents": 1299, "status": CHARGED})
        return repository.record_refund(ORDER_ID, "re_1", now)
    if name == "reserve":
        return repository.reserve_stock(ORDER_ID, [{"sku": "SKU-002", "quantity": 1}], now)
    if name == "release":
        return repository.release_stock(ORDER_ID, [{"sku": "SKU-002", "quantity": 1}], now)
    if name in ("store", "reject_unstored"):
        status = lifecycle.TRANSITIONS[name].target
        return repository.put_new_order({"order_id": ORDER_ID, "status": status})
    return repository.transition_order(ORDER_ID, name, now)


@pytest.mark.parametrize("name", sorted(lifecycle.TRANSITIONS))
def test_dynamodb_performs_exactly_the_allowed_transitions(aws, name):
    for state in STATES:
        aws.Table(TABLE_ENV["PaymentsTable"][1]).delete_item(Key={"order_id": ORDER_ID})
        put_state(aws, state)
        after = expected(name, state)
        assert perform(aws, name) is (after is not None), (name, state)
        assert read_state(aws) == (after or state), (name, state)
