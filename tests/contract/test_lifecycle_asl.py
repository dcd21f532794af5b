"""Contract: the workflows and the Python code speak the same status words.

* The order workflow's own DynamoDB writes perform the lifecycle's transitions with exactly its conditions
  (fulfillment/lifecycle.py owns them).
* Every status literal of statemachine/*.asl.json (Choice comparisons, Parameters and ResultSelector values, DynamoDB
  items, update values and conditions) is a member of fulfillment/status.py's Status, one of the words its field
  takes.
* The app's Python code (functions/, layers/shared/fulfillment/) writes no status word as a literal: it uses the
  enum; and data/sample_data.json holds only its members.

The ASL cannot import Python, so these tests hold the two together."""

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fulfillment import lifecycle
from fulfillment.status import Status
from tests.contract.test_state_machine import all_states

ROOT = Path(__file__).resolve().parents[2]
MACHINES = {path.name.removesuffix(".asl.json"): json.loads(path.read_text())
            for path in sorted((ROOT / "statemachine").glob("*.asl.json"))}
STATES = MACHINES["order"]["States"]

# A status word: upper case, digits and single underscores (FAILED, AWAITING_APPROVAL, NOT_CHARGED).
WORD = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
# Fields whose values are the Amazon States Language's own words, not ours (Mode INLINE, JitterStrategy FULL...).
ASL_FIELDS = {"Mode", "JitterStrategy", "ExecutionType", "QueryLanguage", "Type"}
# The words each field takes: DynamoDB attributes by the table the task names (the order's by lifecycle.STATES); the
# workflows' own data by the state machine that carries it.
FIELDS: dict[tuple[str, str], set[Status]] = {
    ("${OrdersTableName}", "status"): set(lifecycle.STATES[lifecycle.STATUS]),
    ("${FailedOrdersTableName}", "source"): {Status.VALIDATION, Status.WORKFLOW, Status.FULFILLMENT},
    ("${BatchesTableName}", "status"): {Status.RUNNING, Status.COMPLETED},
    ("${CustomersTableName}", "onboarding_status"): {Status.ONBOARDED},
    ("${CustomersTableName}", "loyalty_tier"): {Status.STANDARD},
    # $.checks.payment: ChargePayment's SUCCESS, or a Pass state's verdict on a charge that did not happen
    ("order", "payment_status"): {Status.SUCCESS, Status.DECLINED, Status.UNAVAILABLE, Status.UNKNOWN},
    # $.checks.inventory: ReserveInventory's RESERVED, or a verdict
    ("order", "inventory_status"): {Status.RESERVED, Status.UNAVAILABLE, Status.UNKNOWN},
    # the workflow's summary: ACCEPTED (enqueued), or FULFILLED when the consumer won over a late failure
    ("order", "status"): {Status.ACCEPTED, Status.FULFILLED},
    # a child that succeeded (a failed one's outcome is its error name)
    ("batch", "outcome"): {Status.ACCEPTED},
}


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


def test_every_status_literal_of_the_workflows_is_a_member_its_field_takes():
    assert LITERALS
    for machine, state, context, field, value in LITERALS:
        words = FIELDS.get((context, field))
        assert words is not None, (f"{machine}.asl.json {state}: {field} = {value!r} is a status word in a field "
                                   "FIELDS does not cover: add it with the Status members it takes")
        assert value in set(Status), f"{machine}.asl.json {state}: {value!r} is no member of fulfillment.status.Status"
        assert value in words, f"{machine}.asl.json {state}: {field} takes {sorted(words)}, not {value!r}"


def test_a_status_word_outside_the_enum_or_its_field_is_caught():
    """The check above can fail: a word that is no member, one in a field that does not take it, one in a field
    FIELDS does not cover."""
    check = {"Type": "Choice", "Default": "Done", "Choices": [
        {"Variable": "$.checks.payment.payment_status", "StringEquals": "PAID", "Next": "Done"},
        {"Variable": "$.checks.payment.payment_status", "StringEquals": "RESERVED", "Next": "Done"},
        {"Variable": "$.shipping_status", "StringEquals": "SHIPPED", "Next": "Done"}]}
    found = list(_walk(check, None, {}))
    assert found == [("payment_status", "PAID"), ("payment_status", "RESERVED"), ("shipping_status", "SHIPPED")]
    assert "PAID" not in set(Status)
    assert "RESERVED" in set(Status) and "RESERVED" not in FIELDS[("order", "payment_status")]
    assert ("order", "shipping_status") not in FIELDS


def test_the_app_writes_no_status_word_as_a_literal():
    words = set(Status)
    sources = [path for directory in (ROOT / "functions", ROOT / "layers" / "shared" / "fulfillment")
               for path in directory.rglob("*.py") if path != ROOT / "layers/shared/fulfillment/status.py"]
    assert len(sources) > 20
    literals = [(str(path.relative_to(ROOT)), node.lineno, node.value)
                for path in sources for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Constant) and node.value in words]
    assert literals == [], "use fulfillment.status.Status"


def test_sample_data_holds_only_members():
    data = json.loads((ROOT / "data" / "sample_data.json").read_text())
    checks = [("customers", "status", {Status.ACTIVE, Status.SUSPENDED}),
              ("orders", "status", lifecycle.STATES[lifecycle.STATUS]),
              ("orders", "payment_status", lifecycle.STATES[lifecycle.PAYMENT]),
              ("orders", "reservation_status", lifecycle.STATES[lifecycle.RESERVATION]),
              ("payments", "status", {Status.CHARGED, Status.REFUNDED}),
              ("batches", "status", {Status.RUNNING, Status.COMPLETED})]
    for table, field, words in checks:
        values = {row[field] for row in data[table] if field in row}
        assert values and values <= set(words) and values <= set(Status), (table, field, values)
