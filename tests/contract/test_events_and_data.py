"""Contract: events/ and data/ match the template (request model, key schemas) and the handlers' input shapes."""

import json
from pathlib import Path

import jsonschema

from fulfillment import config
from fulfillment.models import check_order

ROOT = Path(__file__).resolve().parents[2]


def order_model(template):
    return template["Resources"]["OrdersApi"]["Properties"]["Models"]["OrderRequest"]


def test_post_order_event_is_a_valid_rest_proxy_event(template, load_event):
    event = load_event("post_order.json")
    assert (event["httpMethod"], event["resource"], event["path"], event["isBase64Encoded"]) == (
        "POST", "/orders", "/orders", False)
    assert event["requestContext"]["resourcePath"] == "/orders"
    assert {"requestId", "stage", "identity", "accountId", "apiId"} <= set(event["requestContext"])
    jsonschema.validate(json.loads(event["body"]), order_model(template))


def test_invalid_event_passes_the_model_but_not_tier_two(template, load_event):
    body = json.loads(load_event("post_order_invalid.json")["body"])
    jsonschema.validate(body, order_model(template))  # duplicate SKUs: only the function can tell
    skus = [item["sku"] for item in body["items"]]
    assert len(skus) != len(set(skus))


def test_model_rejects_format_errors(template):
    validator = jsonschema.Draft4Validator(order_model(template))
    for body in ({"items": [{"sku": "SKU-001", "quantity": 1}]},
                 {"customerId": "CUST-001", "items": []},
                 {"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 0}]},
                 {"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": "2"}]},
                 {"customerId": "CUST-001", "orderId": "a b", "items": [{"sku": "SKU-001", "quantity": 1}]}):
        assert list(validator.iter_errors(body)), body


def test_get_order_event(load_event):
    event = load_event("get_order.json")
    assert (event["httpMethod"], event["resource"], event["pathParameters"], event["body"]) == (
        "GET", "/orders/{orderId}", {"orderId": "ORDER-EVENT-0001"}, None)


def test_state_inputs_are_well_formed_orders(load_event):
    for name in ("execution_input.json", "validate_order.json", "store_order.json"):
        event = load_event(name)
        assert set(event) == {"order"}, name
        assert check_order(event["order"])["order_id"] == "ORDER-EVENT-0001", name
    assert load_event("store_order.json")["order"]["total_cents"] == 11597


def test_sqs_events_are_shaped_like_lambda_sqs_events(load_event):
    for name in ("fulfill_order_sqs.json", "dlq_sqs.json"):
        for record in load_event(name)["Records"]:
            assert record["eventSource"] == "aws:sqs"
            assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:123456789012:")
            assert {"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(
                record["attributes"])
            assert set(json.loads(record["body"])) == {"order"}


def test_sample_data_matches_tables(template):
    data = json.loads((ROOT / "data" / "sample_data.json").read_text())
    assert set(data) == {"_comment", "customers", "inventory", "orders", "payments", "batches"}
    keys = {"orders": "order_id", "payments": "order_id", "batches": "batch_id"}
    for name, key in keys.items():
        table = template["Resources"][f"{name.capitalize()}Table"]["Properties"]
        assert table["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
        assert all(isinstance(item[key], str) for item in data[name])
    statuses = {customer["status"] for customer in data["customers"]}
    assert {"ACTIVE", "SUSPENDED"} <= statuses
    assert all(isinstance(customer["customer_id"], str) for customer in data["customers"])
    assert any(item["stock"] == 0 for item in data["inventory"])
    for item in data["inventory"]:
        assert isinstance(item["sku"], str) and isinstance(item["price_cents"], int) and isinstance(item["stock"], int)


def test_env_names_the_code_reads_are_set_in_the_template(template):
    names = {value for key, value in vars(config).items() if key.isupper() and isinstance(value, str)}
    set_somewhere = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            set_somewhere |= set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    assert names <= set_somewhere


def test_the_sample_order_is_the_one_the_events_name_as_store_order_leaves_it(load_event):
    """ORDER-EVENT-0001 in the sample data is the order of store_order.json, stored: a replay finds it equal."""
    data = json.loads((ROOT / "data" / "sample_data.json").read_text())
    [order] = [o for o in data["orders"] if o["order_id"] == "ORDER-EVENT-0001"]
    stored = load_event("store_order.json")["order"]
    assert {k: order[k] for k in ("order_id", "customer_id", "items", "total_cents", "received_at")} == stored
    [payment] = [p for p in data["payments"] if p["order_id"] == "ORDER-EVENT-0001"]
    assert (order["status"], order["reservation_status"], payment["status"], payment["amount_cents"]) == (
        "PROCESSING", "RESERVED", "CHARGED", stored["total_cents"])


def test_env_json_is_generated_from_the_template():
    """env.json (sam local invoke --env-vars) is what `python -m local_runtime env-json` writes for template.yaml."""
    from local_runtime.config import Settings
    from local_runtime.samlocal import env_vars

    assert json.loads((ROOT / "env.json").read_text()) == env_vars(Settings(template=ROOT / "template.yaml")), (
        "env.json is out of date: python -m local_runtime env-json > env.json")
