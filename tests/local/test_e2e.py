"""The whole app on the local runtime, driven as a user drives ``make run``: HTTP to the API, boto3 to the endpoint.

Each scenario names the parameters it needs (``PARAMETER_OVERRIDES``) and runs at ``TIME_SCALE=0.01`` so SQS
visibility timeouts (6 x the consumer's timeout) pass in a fraction of a second.
"""
import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.support.local_stack import REPO_ROOT, LocalStack
from tests.support.orders import Api, new_order_id, place_order, wait_terminal

REQUIRED_OUTPUTS = ["ApiUrl", "OrderStateMachineArn", "OrdersTableName", "FailedOrdersTableName",
                    "FulfillmentQueueUrl", "FulfillmentDlqUrl"]


def valid_order(order_id: str) -> dict:
    return {"orderId": order_id, "customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}]}


def place_many(api: Api, bodies: list[dict]) -> list[dict]:
    with requests.Session() as session, ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda b: place_order(api, b, session), bodies))
    for response in responses:
        assert response.status_code == 202, response.text
    return [r.json() for r in responses]


def count_executions(stack: LocalStack) -> int:
    paginator = stack.client("stepfunctions").get_paginator("list_executions")
    return sum(len(page["executions"])
               for page in paginator.paginate(stateMachineArn=stack.outputs["OrderStateMachineArn"]))


@pytest.fixture(scope="module")
def always_fulfils(local_stack_factory):
    return local_stack_factory({"FulfillmentSuccessRate": "1"})


def test_health_and_outputs_are_served(always_fulfils):
    health = requests.get(f"{always_fulfils.endpoint}/_local/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ready"
    assert health.json()["parameters"]["FulfillmentSuccessRate"] == "1"
    outputs = requests.get(f"{always_fulfils.endpoint}/_local/outputs", timeout=5).json()
    assert set(REQUIRED_OUTPUTS) <= set(outputs)
    assert outputs["ApiUrl"] == f"{always_fulfils.api_server}/dev/"
    assert outputs["FulfillmentQueueUrl"] == f"{always_fulfils.endpoint}/123456789012/dofs-FulfillmentQueue"


def test_fifty_orders_at_success_rate_one_are_all_fulfilled(always_fulfils):
    api = always_fulfils.api()
    ids = [new_order_id("OK") for _ in range(50)]
    accepted = place_many(api, [valid_order(i) for i in ids])
    assert [a["orderId"] for a in accepted] == ids
    assert {a["status"] for a in accepted} == {"ACCEPTED"}
    assert accepted[0]["executionArn"] == (
        always_fulfils.outputs["OrderStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{ids[0]}")
    views = wait_terminal(api, ids, timeout=60, table=always_fulfils.table("OrdersTableName"))
    assert Counter(v["status"] for v in views.values()) == {"FULFILLED": 50}
    # GET told the truth on the way: never a status out of order, never a terminal status before the last one
    for view in views.values():
        assert view["_seen"][-1] == "FULFILLED"
        assert set(view["_seen"]) <= {"RECEIVED", "PROCESSING", "FULFILLED"}
    executions = always_fulfils.client("stepfunctions")
    described = executions.describe_execution(executionArn=accepted[0]["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["input"])["order"]["order_id"] == ids[0]


def test_business_rejection_ends_failed_with_a_failed_orders_row(always_fulfils):
    api = always_fulfils.api()
    order_id = new_order_id("REJ")
    response = place_order(api, {"orderId": order_id, "customerId": "CUST-003",
                                 "items": [{"sku": "SKU-001", "quantity": 1}]})
    assert response.status_code == 202
    view = wait_terminal(api, [order_id], timeout=30)[order_id]
    assert view["status"] == "FAILED"
    assert "CustomerInactiveError" in view["reason"]
    row = always_fulfils.table("FailedOrdersTableName").get_item(Key={"order_id": order_id})["Item"]
    assert row["order_id"] == order_id
    assert "CustomerInactiveError" in row["reason"]
    described = always_fulfils.client("stepfunctions").describe_execution(executionArn=response.json()["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "OrderRejected"


def test_malformed_request_gets_400_and_starts_nothing(always_fulfils):
    api = always_fulfils.api()
    before = count_executions(always_fulfils)
    bad_bodies = [
        {"customerId": "CUST-001", "items": []},                                      # no lines
        {"customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": "2"}]},   # quantity is a string
        {"items": [{"sku": "SKU-001", "quantity": 1}]},                                # no customer
    ]
    for body in bad_bodies:
        response = place_order(api, body)
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith("Invalid request body")
    not_json = api.post("orders", data="{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert count_executions(always_fulfils) == before


def test_every_route_needs_an_api_key(always_fulfils):
    before = count_executions(always_fulfils)
    anonymous = always_fulfils.api(None)
    for answer in (anonymous.post("orders", valid_order(new_order_id("ANON"))), anonymous.get("orders/x"),
                   anonymous.with_key("not-a-key").post("orders", valid_order(new_order_id("ANON")))):
        assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})
    assert count_executions(always_fulfils) == before


def test_unknown_order_is_404(always_fulfils):
    response = always_fulfils.api().get(f"orders/{new_order_id('NONE')}")
    assert response.status_code == 404


def _runtime_processes(endpoint: str) -> list[int]:
    """Processes started with this endpoint in their environment: the Lambda workers and the fork server that
    forks them (a forked worker's /proc environ is the server's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"AWS_ENDPOINT_URL={endpoint}".encode() in environ:
            pids.append(int(proc.name))
    return pids


def test_ctrl_c_stops_cleanly_without_orphan_workers():
    stack = LocalStack({"FulfillmentSuccessRate": "1"}, time_scale=0.01)
    try:
        order_id = new_order_id("STOP")
        assert place_order(stack.api(), valid_order(order_id)).status_code == 202
        wait_terminal(stack.api(), [order_id], timeout=30)
        assert len(_runtime_processes(stack.endpoint)) >= 4   # api, validate, store, fulfil workers are warm
        assert stack.stop() == 0
        assert _runtime_processes(stack.endpoint) == []
        assert "stopped" in stack.log()
    finally:
        stack.cleanup()


def test_invoke_command_runs_one_function_with_a_sample_event():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["ENDPOINT_PORT"] = "1"  # nothing listens there: the command starts a private runtime for the call
    result = subprocess.run([sys.executable, "-m", "local_runtime", "invoke", "ValidateOrderFunction",
                             "events/validate_order.json"], cwd=REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    validated = json.loads(result.stdout.strip().splitlines()[-1])
    assert validated["order_id"] == "ORDER-EVENT-0001"
    assert validated["total_cents"] == 8999 + 2 * 1299
