"""Data access: DynamoDB tables and the Step Functions API. Clients are built lazily and cached.

botocore ClientError codes become domain errors here; nothing above this module sees botocore.
"""

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from fulfillment import config
from fulfillment.errors import OrderAlreadyExistsError, OrderNotFoundError

_clients: dict[str, Any] = {}


def _dynamodb():
    if "dynamodb" not in _clients:
        _clients["dynamodb"] = boto3.resource("dynamodb")
    return _clients["dynamodb"]


def _stepfunctions():
    if "stepfunctions" not in _clients:
        _clients["stepfunctions"] = boto3.client("stepfunctions")
    return _clients["stepfunctions"]


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and mocks)."""
    _clients.clear()


def _table(env_name: str):
    return _dynamodb().Table(config.require(env_name))


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


# customers / inventory -------------------------------------------------------------------------------------


def get_customer(customer_id: str) -> dict | None:
    response = _table(config.CUSTOMERS_TABLE_NAME).get_item(Key={"customer_id": customer_id}, ConsistentRead=True)
    return response.get("Item")


def get_inventory_item(sku: str) -> dict | None:
    response = _table(config.INVENTORY_TABLE_NAME).get_item(Key={"sku": sku}, ConsistentRead=True)
    return response.get("Item")


# orders ----------------------------------------------------------------------------------------------------


def get_order(order_id: str) -> dict | None:
    response = _table(config.ORDERS_TABLE_NAME).get_item(Key={"order_id": order_id}, ConsistentRead=True)
    return response.get("Item")


def put_new_order(row: dict) -> bool:
    """Insert ``row`` unless an order with its id exists. Returns False (and writes nothing) on conflict."""
    try:
        _table(config.ORDERS_TABLE_NAME).put_item(Item=row, ConditionExpression="attribute_not_exists(order_id)")
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


def set_order_status(order_id: str, status: str, expected: str | None, now: str, **fields: Any) -> bool:
    """Set ``status`` (and ``fields``) on an existing order.

    With ``expected`` the current status must equal it; without, the order must exist and not be FULFILLED
    (a fulfilled order is never overwritten). Returns False when the condition fails.
    """
    names = {"#status": "status", "#updated_at": "updated_at"}
    values: dict[str, Any] = {":status": status, ":now": now}
    assignments = ["#status = :status", "#updated_at = :now"]
    for index, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
        assignments.append(f"#f{index} = :f{index}")
    if expected is None:
        condition = "attribute_exists(order_id) AND #status <> :fulfilled"
        values[":fulfilled"] = "FULFILLED"
    else:
        condition = "#status = :expected"
        values[":expected"] = expected
    try:
        _table(config.ORDERS_TABLE_NAME).update_item(
            Key={"order_id": order_id},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


def put_failed_order(row: dict) -> None:
    """Write (or rewrite, identically) the failed_orders row of one order."""
    _table(config.FAILED_ORDERS_TABLE_NAME).put_item(Item=row)


# Step Functions --------------------------------------------------------------------------------------------


def state_machine_arn() -> str:
    return config.require(config.ORDER_STATE_MACHINE_ARN)


def execution_arn(order_id: str) -> str:
    """ARN of the execution named ``order_id`` of the order state machine."""
    return state_machine_arn().replace(":stateMachine:", ":execution:", 1) + ":" + order_id


def start_execution(name: str, payload: dict) -> str:
    """Start the order workflow under execution name ``name``; return the execution ARN."""
    try:
        response = _stepfunctions().start_execution(
            stateMachineArn=state_machine_arn(), name=name, input=json.dumps(payload)
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            raise OrderAlreadyExistsError(f"order {name} was already submitted") from exc
        raise
    return response["executionArn"]


def execution_status(order_id: str) -> str:
    """Status of the execution named ``order_id`` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED...)."""
    try:
        response = _stepfunctions().describe_execution(executionArn=execution_arn(order_id))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "ResourceNotFoundException"):
            raise OrderNotFoundError(f"order {order_id} not found") from exc
        raise
    return response["status"]
