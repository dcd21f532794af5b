"""Contract: the order workflow's own DynamoDB writes perform the lifecycle's transitions with exactly its conditions
(fulfillment/lifecycle.py owns them; the ASL cannot import Python, so this test holds the two together)."""

import json
from pathlib import Path

import pytest

from fulfillment import lifecycle

ROOT = Path(__file__).resolve().parents[2]
STATES = json.loads((ROOT / "statemachine" / "order.asl.json").read_text())["States"]


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
