"""Contract: the workflows and the Python code speak the same status words.

* The order workflow's own DynamoDB writes perform the lifecycle's transitions with exactly its conditions
  (fulfillment/lifecycle.py owns them).
* Every status literal of statemachine/*.asl.json (Choice comparisons, Parameters and ResultSelector values, DynamoDB
  items, update values and conditions) is a member of the enum of fulfillment/status.py its field takes.
* The app's Python code (functions/, layers/shared/fulfillment/) writes no status word as a literal: it uses the
  enums; and data/sample_data.json holds only their members.

The ASL cannot import Python, so these tests hold the two together."""

import ast
import json
import re
from collections import Counter
from enum import StrEnum
from pathlib import Path

import pytest

from fulfillment import lifecycle, status
from fulfillment.status import (
    BatchStatus,
    CustomerStatus,
    FailureSource,
    LoyaltyTier,
    OnboardingStatus,
    OrderStatus,
    Outcome,
    PaymentStatus,
    ReservationStatus,
)

ROOT = Path(__file__).resolve().parents[2]
MACHINES = {path.name.removesuffix(".asl.json"): json.loads(path.read_text())
            for path in sorted((ROOT / "statemachine").glob("*.asl.json"))}
STATES = MACHINES["order"]["States"]

# A status word: upper case, digits and single underscores (FAILED, AWAITING_APPROVAL, NOT_CHARGED).
WORD = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
# Fields whose values are the Amazon States Language's own words, not ours (Mode INLINE, JitterStrategy FULL...).
ASL_FIELDS = {"Mode", "JitterStrategy", "ExecutionType", "QueryLanguage", "Type"}
# The enum (or enums) each field takes: DynamoDB attributes by the table the task names; the workflows' own data by
# the state machine that carries it.
FIELDS: dict[tuple[str, str], tuple[type[StrEnum], ...]] = {
    ("${OrdersTableName}", "status"): (OrderStatus,),
    ("${FailedOrdersTableName}", "source"): (FailureSource,),
    ("${BatchesTableName}", "status"): (BatchStatus,),
    ("${CustomersTableName}", "onboarding_status"): (OnboardingStatus,),
    ("${CustomersTableName}", "loyalty_tier"): (LoyaltyTier,),
    ("order", "payment_status"): (Outcome,),  # $.checks.payment: ChargePayment's SUCCESS or a Pass state's verdict
    ("order", "inventory_status"): (ReservationStatus, Outcome),  # ReserveInventory's RESERVED, or a verdict
    ("order", "status"): (Outcome, OrderStatus),  # the workflow's summary: ACCEPTED, or FULFILLED by the consumer
    ("batch", "outcome"): (Outcome,),  # a child that succeeded (a failed one's outcome is its error name)
}
ENUMS = [value for value in vars(status).values()
         if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum]


def all_states(states: dict):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from all_states(state[key]["States"])


def _placeholder_field(placeholder: str, params: dict) -> str:
    """The attribute a DynamoDB expression value (``:failed``) is compared with or assigned to."""
    names = params.get("ExpressionAttributeNames", {})
    expressions = " ".join(params.get(key, "") for key in ("UpdateExpression", "ConditionExpression"))
    for match in re.finditer(r"(#?\w+)\s*=\s*(?:if_not_exists\(\s*#?\w+\s*,\s*)?(:\w+)", expressions):
        if match.group(2) == placeholder:
            return names.get(match.group(1), match.group(1))
    for match in re.finditer(r"(#?\w+)\s+IN\s*\(([^)]*)\)", expressions):
        if placeholder in re.split(r"\s*,\s*", match.group(2).strip()):
            return names.get(match.group(1), match.group(1))
    raise AssertionError(f"{placeholder} is in no expression of {params}")


def _walk(node, field: str | None, params: dict):
    """(field, value) of every status-like literal under ``node``, the value of ``field``."""
    if isinstance(node, dict):
        if "Variable" in node and WORD.match(str(node.get("StringEquals"))):
            yield node["Variable"].rsplit(".", 1)[-1], node["StringEquals"]  # a Choice rule: the variable's field
        for key, value in node.items():
            if key in ("States", "Branches", "Iterator", "ItemProcessor", "StringEquals") or key.endswith(".$"):
                continue  # nested states are walked as states; a path is no literal
            if key in ("S", "SS") and field is not None:  # a DynamoDB attribute value: the field is its attribute
                yield from _walk(value, field, params)
            else:
                yield from _walk(value, key, params)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, field, params)
    elif isinstance(node, str) and WORD.match(node) and field not in ASL_FIELDS:
        yield (_placeholder_field(field, params) if field and field.startswith(":") else field), node


def status_literals():
    """(machine, state, context, field, value) of every status literal in the ASL files."""
    for machine, definition in MACHINES.items():
        for name, state in all_states(definition["States"]):
            params = state.get("Parameters", {}) if isinstance(state.get("Parameters"), dict) else {}
            dynamodb = state.get("Resource", "").startswith(("arn:aws:states:::dynamodb:",
                                                                "arn:aws:states:::aws-sdk:dynamodb:"))
            context = params["TableName"] if dynamodb else machine
            for field, value in _walk(state, None, params):
                yield machine, name, context, field, value


LITERALS = list(status_literals())


@pytest.mark.parametrize(("state", "transition"), [("UpdateOrderFailed", "fail"),
                                                   ("MarkOrderFailed", "reject_unstored")])
def test_direct_writes_carry_the_lifecycle_condition(state, transition):
    params = STATES[state]["Parameters"]
    rule = lifecycle.condition(transition)
    assert params["TableName"] == "${OrdersTableName}"
    assert params["ConditionExpression"] == rule.expression
    for placeholder, name in rule.names.items():
        assert params["ExpressionAttributeNames"][placeholder] == name
    for placeholder, value in rule.values.items():
        assert params["ExpressionAttributeValues"][placeholder] == {"S": value}
    target = lifecycle.TRANSITIONS[transition].target
    if "Item" in params:
        assert params["Item"]["status"] == {"S": target}
    else:
        assert params["UpdateExpression"].startswith("SET #status = :failed,")
        assert params["ExpressionAttributeValues"][":failed"] == {"S": target}


def test_the_walk_finds_the_status_literals_of_every_kind():
    """The walk reaches Choice comparisons, Pass parameters, selectors, DynamoDB items, values and conditions."""
    found = {(state, field, value) for _, state, _, field, value in LITERALS}
    assert {("CheckResults", "payment_status", "SUCCESS"), ("CheckResults", "inventory_status", "RESERVED"),
            ("CheckResults", "payment_status", "UNKNOWN"), ("PaymentDeclined", "payment_status", "DECLINED"),
            ("SummarizeOrder", "status", "ACCEPTED"), ("RunOrderWorkflow", "outcome", "ACCEPTED"),
            ("MarkOrderFailed", "status", "FAILED"), ("RecordRejection", "source", "VALIDATION"),
            ("UpdateOrderFailed", "status", "AWAITING_APPROVAL"), ("CloseBatchUnreported", "status", "COMPLETED"),
            ("SetUpLoyaltyAccount", "loyalty_tier", "STANDARD")} <= found
    # every literal the files hold in a status-like shape, outside the language's own fields, is one the walk found
    texts = Counter(match for definition in MACHINES.values()
                    for key, match in re.findall(r'"([^"]+)": "([A-Z][A-Z0-9_]*)"', json.dumps(definition))
                    if key not in ASL_FIELDS and WORD.match(match))
    assert texts == Counter(value for *_, value in LITERALS)


def test_every_status_literal_of_the_workflows_is_a_member_of_its_enum():
    assert LITERALS
    for machine, state, context, field, value in LITERALS:
        enums = FIELDS.get((context, field))
        assert enums is not None, (f"{machine}.asl.json {state}: {field} = {value!r} is a status word in a field no "
                                   "enum of fulfillment/status.py covers: add one to FIELDS")
        assert any(value in enum.__members__.values() for enum in enums), (
            f"{machine}.asl.json {state}: {field} = {value!r} is no member of {[enum.__name__ for enum in enums]}")


def test_a_status_word_outside_the_enums_is_caught():
    """The check above can fail: a literal that no enum holds, and one in a field no enum covers."""
    check = {"Type": "Choice", "Default": "Done", "Choices": [
        {"Variable": "$.checks.payment.payment_status", "StringEquals": "PAID", "Next": "Done"},
        {"Variable": "$.shipping_status", "StringEquals": "SHIPPED", "Next": "Done"}]}
    found = list(_walk(check, None, {}))
    assert found == [("payment_status", "PAID"), ("shipping_status", "SHIPPED")]
    assert "PAID" not in Outcome.__members__.values() and ("order", "shipping_status") not in FIELDS


def test_the_app_writes_no_status_word_as_a_literal():
    words = {member.value for enum in ENUMS for member in enum}
    sources = [path for directory in (ROOT / "functions", ROOT / "layers" / "shared" / "fulfillment")
               for path in directory.rglob("*.py") if path != ROOT / "layers/shared/fulfillment/status.py"]
    assert len(sources) > 20
    literals = [(str(path.relative_to(ROOT)), node.lineno, node.value)
                for path in sources for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Constant) and node.value in words]
    assert literals == [], "use the enums of fulfillment/status.py"


def test_sample_data_holds_only_members():
    data = json.loads((ROOT / "data" / "sample_data.json").read_text())
    checks = [("customers", "status", CustomerStatus), ("orders", "status", OrderStatus),
              ("orders", "payment_status", PaymentStatus), ("orders", "reservation_status", ReservationStatus),
              ("payments", "status", PaymentStatus), ("batches", "status", BatchStatus)]
    for table, field, enum in checks:
        values = {row[field] for row in data[table] if field in row}
        assert values and values <= set(enum), (table, field, values)
