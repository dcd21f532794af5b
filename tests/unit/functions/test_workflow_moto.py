"""The ASL rendered from the template, run by moto's Step Functions engine in-process, with the Lambda tasks
answered by our handlers (a botocore before-send hook: no network, no Docker)."""

import importlib
import json
import re
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
from botocore import handlers
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse

from fulfillment import repository

ROOT = Path(__file__).resolve().parents[3]
INVOKE_PATH = re.compile(r"/2015-03-31/functions/([^/]+)/invocations")
FUNCTION_MODULES = {"ValidateOrderFunction": "functions.validate_order.app",
                    "StoreOrderFunction": "functions.store_order.app"}
TABLES = {"ORDERS_TABLE_NAME": ("wf-orders", "order_id"), "FAILED_ORDERS_TABLE_NAME": ("wf-failed", "order_id"),
          "CUSTOMERS_TABLE_NAME": ("wf-customers", "customer_id"), "INVENTORY_TABLE_NAME": ("wf-inventory", "sku")}


@pytest.fixture
def workflow(monkeypatch, template, lambda_context):
    """Start executions with ``workflow.run(order)``; returns (describe_execution, orders row, failed row)."""
    invocations: list[str] = []

    def invoke(request, **kwargs):
        match = INVOKE_PATH.search(request.url)
        if match is None:
            return None
        logical_id = unquote(match.group(1)).split(":")[-1]
        invocations.append(logical_id)
        module = importlib.import_module(FUNCTION_MODULES[logical_id])
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        try:
            body = json.dumps(module.lambda_handler(json.loads(request.body), lambda_context))
        except Exception as exc:  # the Lambda service turns a handler exception into this envelope
            body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": "r",
                               "stackTrace": []})
            headers["X-Amz-Function-Error"] = "Unhandled"
        return AWSResponse(request.url, 200, headers, MockRawResponse(body.encode()))

    monkeypatch.setattr(handlers, "BUILTIN_HANDLERS", [("before-send.lambda.Invoke", invoke)]
                        + handlers.BUILTIN_HANDLERS)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for env_name, (table_name, _) in TABLES.items():
        monkeypatch.setenv(env_name, table_name)
    repository.reset_clients()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        for table_name, key in TABLES.values():
            dynamodb.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                                  KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
        sample = json.loads((ROOT / "data" / "sample_data.json").read_text())
        for item in sample["customers"]:
            dynamodb.Table("wf-customers").put_item(Item=item)
        for item in sample["inventory"]:
            dynamodb.Table("wf-inventory").put_item(Item=item)
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="wf-fulfillment")["QueueUrl"]
        props = template["Resources"]["OrderStateMachine"]["Properties"]
        values = {"FulfillmentQueueUrl": queue_url, "FailedOrdersTableName": "wf-failed",
                  "OrdersTableName": "wf-orders"}
        for key, value in props["DefinitionSubstitutions"].items():
            if "Fn::GetAtt" in value:
                values[key] = f"arn:aws:lambda:us-east-1:123456789012:function:{value['Fn::GetAtt'][0]}"
        definition = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)],
                            (ROOT / props["DefinitionUri"]).read_text())
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(name="wf-order", definition=definition,
                                           roleArn="arn:aws:iam::123456789012:role/wf")["stateMachineArn"]

        class Workflow:
            calls = invocations

            @staticmethod
            def run(order):
                arn = sfn.start_execution(stateMachineArn=machine, name=order["order_id"],
                                          input=json.dumps({"order": order}))["executionArn"]
                deadline = time.monotonic() + 20
                while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
                    assert time.monotonic() < deadline, "execution did not finish"
                    time.sleep(0.05)
                key = {"order_id": order["order_id"]}
                return (described, dynamodb.Table("wf-orders").get_item(Key=key).get("Item"),
                        dynamodb.Table("wf-failed").get_item(Key=key).get("Item"))

            @staticmethod
            def messages():
                return [json.loads(m["Body"]) for m in
                        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])]

        yield Workflow
    repository.reset_clients()


def make_order(order_id, customer_id, items):
    return {"order_id": order_id, "customer_id": customer_id, "items": items,
            "received_at": "2025-11-22T09:00:00.000Z"}


def test_valid_order_is_stored_and_enqueued(workflow):
    described, row, failed = workflow.run(make_order("WF-OK", "CUST-001", [{"sku": "SKU-001", "quantity": 2}]))
    assert described["status"] == "SUCCEEDED"
    assert workflow.calls == ["ValidateOrderFunction", "StoreOrderFunction"]
    assert (row["status"], row["total_cents"], failed) == ("PROCESSING", 17998, None)
    assert workflow.messages() == [{"order": {
        "order_id": "WF-OK", "customer_id": "CUST-001",
        "items": [{"sku": "SKU-001", "quantity": 2, "unit_price_cents": 8999}],
        "total_cents": 17998, "received_at": "2025-11-22T09:00:00.000Z"}}]


@pytest.mark.parametrize(("customer_id", "items", "reason"), [
    ("CUST-003", [{"sku": "SKU-001", "quantity": 1}],
     "CustomerInactiveError: customer CUST-003 is SUSPENDED, not ACTIVE"),
    ("CUST-001", [{"sku": "SKU-004", "quantity": 1}], "InsufficientStockError: sku SKU-004: 1 requested, 0 in stock"),
    ("CUST-404", [{"sku": "SKU-001", "quantity": 1}], "CustomerNotFoundError: customer CUST-404 does not exist"),
])
def test_rejection_is_recorded_in_both_tables(workflow, customer_id, items, reason):
    order = make_order("WF-BAD", customer_id, items)
    described, row, failed = workflow.run(order)
    assert (described["status"], described["error"]) == ("FAILED", "OrderRejected")
    assert workflow.calls == ["ValidateOrderFunction"]
    assert (row["status"], row["reason"]) == ("FAILED", reason)
    assert (failed["reason"], failed["source"], json.loads(failed["order"])) == (reason, "VALIDATION", order)
    assert workflow.messages() == []
