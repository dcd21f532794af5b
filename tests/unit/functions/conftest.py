"""Handler tests: sockets off, moto's in-process AWS, tables built from template.yaml, sample data loaded."""

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from fulfillment import repository

ROOT = Path(__file__).resolve().parents[3]
TABLE_ENV = {
    "OrdersTable": ("ORDERS_TABLE_NAME", "dofs-test-orders"),
    "FailedOrdersTable": ("FAILED_ORDERS_TABLE_NAME", "dofs-test-failed-orders"),
    "CustomersTable": ("CUSTOMERS_TABLE_NAME", "dofs-test-customers"),
    "InventoryTable": ("INVENTORY_TABLE_NAME", "dofs-test-inventory"),
    "PaymentsTable": ("PAYMENTS_TABLE_NAME", "dofs-test-payments"),
    "BatchesTable": ("BATCHES_TABLE_NAME", "dofs-test-batches"),
    "IdempotencyTable": ("IDEMPOTENCY_TABLE_NAME", "dofs-test-idempotency"),
}
STATE_MACHINE_NAME = "dofs-test-order"
EVENT_BUS_NAME = "dofs-test-events"
REVIEWER_API_KEY_ID = "fc9b89df43"  # the apiKeyId of events/post_approval.json (ReviewerApiKey of local stack dofs)


@pytest.fixture
def aws(monkeypatch, template):
    """moto-backed AWS with the tables (key schema from template.yaml), the event bus (an SQS queue receives
    every event put on it, see ``bus_events``) and data/sample_data.json loaded."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for env_name, table_name in TABLE_ENV.values():
        monkeypatch.setenv(env_name, table_name)
    monkeypatch.setenv("EVENT_BUS_NAME", EVENT_BUS_NAME)
    monkeypatch.setenv("REVIEWER_API_KEY_ID", REVIEWER_API_KEY_ID)
    repository.reset_clients()
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name=EVENT_BUS_NAME)
        queue_url = sqs.create_queue(QueueName="dofs-test-bus-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="tap", EventBusName=EVENT_BUS_NAME, EventPattern='{"source": [{"prefix": "dofs."}]}')
        events.put_targets(Rule="tap", EventBusName=EVENT_BUS_NAME, Targets=[{"Id": "tap", "Arn": queue_arn}])
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        resources = template["Resources"]
        for logical_id, (_, table_name) in TABLE_ENV.items():
            properties = resources[logical_id]["Properties"]
            dynamodb.create_table(
                TableName=table_name,
                KeySchema=properties["KeySchema"],
                AttributeDefinitions=properties["AttributeDefinitions"],
                BillingMode=properties["BillingMode"],
            )
        sample = json.loads((ROOT / "data" / "sample_data.json").read_text())
        for item in sample["customers"]:
            dynamodb.Table(TABLE_ENV["CustomersTable"][1]).put_item(Item=item)
        for item in sample["inventory"]:
            dynamodb.Table(TABLE_ENV["InventoryTable"][1]).put_item(Item=item)
        yield dynamodb
    repository.reset_clients()


@pytest.fixture
def orders_table(aws):
    return aws.Table(TABLE_ENV["OrdersTable"][1])


@pytest.fixture
def stored_order(orders_table, load_event):
    """The order of events/store_order.json, stored as StoreOrder leaves it (PROCESSING)."""
    order = load_event("store_order.json")["order"]
    orders_table.put_item(Item={**order, "status": "PROCESSING", "created_at": "t0", "updated_at": "t0"})
    return order


@pytest.fixture
def enqueued_order(orders_table, stored_order):
    """The same order as the workflow hands it to the fulfillment queue: PROCESSING, charged and reserved."""
    orders_table.update_item(Key={"order_id": stored_order["order_id"]},
                             UpdateExpression="SET payment_status = :charged, reservation_status = :reserved",
                             ExpressionAttributeValues={":charged": "CHARGED", ":reserved": "RESERVED"})
    return stored_order


def stored(aws, logical_id: str, key: dict) -> dict | None:
    """The item under ``key`` in the table of template resource ``logical_id``, or None."""
    return aws.Table(TABLE_ENV[logical_id][1]).get_item(Key=key).get("Item")


def stock(aws, sku: str) -> int:
    return int(stored(aws, "InventoryTable", {"sku": sku})["stock"])


@pytest.fixture
def failed_orders_table(aws):
    return aws.Table(TABLE_ENV["FailedOrdersTable"][1])


@pytest.fixture
def state_machine_arn(aws, monkeypatch):
    """The order state machine registered in moto (not executing: executions stay RUNNING)."""
    definition = (ROOT / "statemachine" / "order.asl.json").read_text()
    client = boto3.client("stepfunctions", region_name="us-east-1")
    arn = client.create_state_machine(
        name=STATE_MACHINE_NAME,
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/dofs-test-order-role",
    )["stateMachineArn"]
    monkeypatch.setenv("ORDER_STATE_MACHINE_ARN", arn)
    return arn


def _receive_all(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    received = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


@pytest.fixture
def bus_events(aws):
    """``bus_events()`` -> the events put on the app's bus since the last call: [(detail-type, detail)]."""
    queue_url = boto3.client("sqs", region_name="us-east-1").get_queue_url(QueueName="dofs-test-bus-tap")["QueueUrl"]

    def drain() -> list[tuple[str, dict]]:
        return [(event["detail-type"], event["detail"]) for event in _receive_all(queue_url)]

    return drain
