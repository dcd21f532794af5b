"""EventBridge content filtering (local_runtime/event_patterns.py) and target input shaping
(events.models.render_input)."""
import json

import pytest

from local_runtime.events.exceptions import InvalidEventPatternException
from local_runtime.event_patterns import matches, parse_pattern
from local_runtime.events.models import Rule, entry_size, render_input

EVENT = {
    "version": "0", "id": "e-1", "detail-type": "OrderPlaced", "source": "dofs.orders", "account": "123456789012",
    "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": ["arn:aws:dynamodb:table/orders"],
    "detail": {
        "orderId": "ORD-42", "total": 150.5, "express": True, "note": None, "ip": "10.0.0.7",
        "customer": {"tier": "Gold", "email": "a@example.com"},
        "items": [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-9", "qty": 1}],
        "tags": ["new", "priority"],
    },
}


@pytest.mark.parametrize("pattern, expected", [
    ({}, True),
    ({"source": ["dofs.orders"]}, True),
    ({"source": ["other", "dofs.orders"]}, True),
    ({"source": ["other"]}, False),
    ({"source": ["dofs.orders"], "detail-type": ["OrderShipped"]}, False),
    ({"detail": {"orderId": [{"prefix": "ORD-"}]}}, True),
    ({"detail": {"orderId": [{"prefix": {"equals-ignore-case": "ord-"}}]}}, True),
    ({"detail": {"orderId": [{"suffix": "-42"}]}}, True),
    ({"detail": {"customer": {"tier": [{"equals-ignore-case": "GOLD"}]}}}, True),
    ({"detail": {"customer": {"email": [{"wildcard": "*@example.com"}]}}}, True),
    ({"detail": {"customer": {"email": [{"wildcard": "*@example.org"}]}}}, False),
    ({"detail": {"total": [{"numeric": [">", 100, "<=", 150.5]}]}}, True),
    ({"detail": {"total": [{"numeric": [">", 150.5]}]}}, False),
    ({"detail": {"total": [150.5]}}, True),
    ({"detail": {"express": [True]}}, True),
    ({"detail": {"express": [1]}}, False),
    ({"detail": {"note": [None]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"orderId": [{"exists": True}]}}, True),
    ({"detail": {"customer": [{"exists": True}]}}, False),  # exists applies to leaves only
    ({"detail": {"orderId": [{"anything-but": ["ORD-1", "ORD-2"]}]}}, True),
    ({"detail": {"orderId": [{"anything-but": {"prefix": "ORD-"}}]}}, False),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),
    ({"detail": {"tags": ["priority"]}}, True),
    ({"detail": {"items": {"sku": ["SKU-9"]}}}, True),
    ({"detail": {"items": {"qty": [{"numeric": [">=", 3]}]}}}, False),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ({"$or": [{"source": ["x"]}, {"detail": {"total": [{"numeric": [">", 100]}]}}]}, True),
    ({"$or": [{"source": ["x"]}, {"detail-type": ["y"]}]}, False),
    ({"detail": {"absent": {"deeper": [{"exists": False}]}}}, True),
])
def test_pattern_matching(pattern, expected):
    assert matches(pattern, EVENT) is expected
    assert matches(json.dumps(pattern), EVENT) is expected


@pytest.mark.parametrize("pattern", [
    '{"source": "dofs.orders"}', '{"source": []}', "not json", '{"detail": {"x": [{"unknown-op": 1}]}}',
])
def test_invalid_patterns_are_rejected(pattern):
    with pytest.raises(InvalidEventPatternException):
        if parse_pattern(pattern):
            matches(pattern, EVENT)


RULE = Rule("integ-rule", "arn:aws:events:us-east-1:123456789012:rule/integ-rule", {}, [])


def test_render_input_variants():
    assert json.loads(render_input({"Arn": "x"}, EVENT, RULE)) == EVENT
    assert render_input({"Arn": "x", "Input": '{"fixed": 1}'}, EVENT, RULE) == '{"fixed": 1}'
    assert json.loads(render_input({"Arn": "x", "InputPath": "$.detail.customer"}, EVENT, RULE)) == {
        "tier": "Gold", "email": "a@example.com"}
    transformer = {"InputPathsMap": {"id": "$.detail.orderId", "items": "$.detail.items", "total": "$.detail.total"},
                   "InputTemplate": '{"order": "<id>", "items": <items>, "total": <total>, '
                                    '"text": "Order <id> by <aws.events.rule-name>"}'}
    assert json.loads(render_input({"Arn": "x", "InputTransformer": transformer}, EVENT, RULE)) == {
        "order": "ORD-42", "items": EVENT["detail"]["items"], "total": 150.5, "text": "Order ORD-42 by integ-rule"}
    plain = {"InputPathsMap": {"id": "$.detail.orderId"}, "InputTemplate": '"Order <id> placed"'}
    assert json.loads(render_input({"Arn": "x", "InputTransformer": plain}, EVENT, RULE)) == "Order ORD-42 placed"


@pytest.mark.parametrize(("path", "value"), [
    ("$.detail.items[1].sku", "SKU-9"),  # a definite path: its value
    ("$['detail-type']", "OrderPlaced"),
    ("$.detail.note", None),
    ("$.detail.missing", None),  # names nothing: null
    ("$.detail.items[5]", None),
    ("$.detail.items[*].sku", ["SKU-1", "SKU-9"]),  # a query: every value it finds
    ("$..qty", [2, 1]),
    ("$.detail.nothing[*]", []),
])
def test_input_path_selects_a_definite_value_or_every_match(path, value):
    assert json.loads(render_input({"Arn": "x", "InputPath": path}, EVENT, RULE)) == value


def test_put_events_entry_size_follows_the_user_guide():
    entry = {"Source": "src", "DetailType": "dt", "Detail": '{"a":"é"}', "Resources": ["r1", "r2"], "Time": 1}
    assert entry_size(entry) == 14 + 3 + 2 + len('{"a":"é"}'.encode()) + 4
