"""Data access: DynamoDB tables and the Step Functions API. Clients are built lazily and cached.

botocore ClientError codes become domain errors here; nothing above this module sees botocore.
"""

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from fulfillment import config, lifecycle
from fulfillment.errors import ApprovalNotPendingError, EventPublishError, OrderAlreadyExistsError, OrderNotFoundError
from fulfillment.status import Status

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
    name = config.require(env_name)
    key = f"table:{name}"
    if key not in _clients:  # a Table resource per call cost about as much as building its request
        _clients[key] = _dynamodb().Table(name)
    return _clients[key]


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _put_new(env_name: str, key: str, row: dict) -> bool:
    """Insert ``row`` into the table named by ``env_name`` unless an item with its ``key`` exists.
    Returns False (and writes nothing) on conflict."""
    try:
        _table(env_name).put_item(Item=row, ConditionExpression=f"attribute_not_exists({key})")
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


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


def existing_order_ids(order_ids: list[str]) -> set[str]:
    """The ids among ``order_ids`` that have an orders-table row (BatchGetItem, 100 keys a call)."""
    table = config.require(config.ORDERS_TABLE_NAME)
    found: set[str] = set()
    unique = sorted(set(order_ids))
    for start in range(0, len(unique), 100):
        request: dict | None = {table: {"Keys": [{"order_id": i} for i in unique[start:start + 100]],
                                        "ProjectionExpression": "order_id", "ConsistentRead": True}}
        while request:
            response = _dynamodb().meta.client.batch_get_item(RequestItems=request)
            found.update(item["order_id"] for item in response["Responses"].get(table, []))
            request = response.get("UnprocessedKeys") or None
    return found


def put_new_order(row: dict) -> bool:
    """Insert ``row`` (status PROCESSING: transition ``store``) unless an order with its id exists. Returns False (and
    writes nothing) on conflict."""
    assert lifecycle.condition("store").expression == "attribute_not_exists(order_id)"
    return _put_new(config.ORDERS_TABLE_NAME, "order_id", row)


def transition_order(order_id: str, name: str, now: str, keep_first: tuple[str, ...] = (), **fields: Any) -> bool:
    """Perform status transition ``name`` (lifecycle.TRANSITIONS) on the order, setting ``fields`` with it (those in
    ``keep_first`` only when absent: a repeated FAILED keeps its first reason). Returns False when the lifecycle
    refuses it (the order is in another state, or absent where it must exist)."""
    transition = lifecycle.TRANSITIONS[name]
    assert transition.field == lifecycle.STATUS, name
    rule = lifecycle.condition(name)
    names = {**rule.names, "#status": "status", "#updated_at": "updated_at"}
    values: dict[str, Any] = {**rule.values, ":to": transition.target, ":now": now}
    assignments = ["#status = :to", "#updated_at = :now"]
    for index, (field, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = field
        values[f":f{index}"] = value
        assignments.append(f"#f{index} = if_not_exists(#f{index}, :f{index})" if field in keep_first
                           else f"#f{index} = :f{index}")
    try:
        _table(config.ORDERS_TABLE_NAME).update_item(
            Key={"order_id": order_id},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=rule.expression,
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
    return _start(state_machine_arn(), name, payload, f"order {name} was already submitted")


def execution_input(order_id: str) -> dict:
    """The input of the execution named ``order_id`` of the order state machine."""
    response = _stepfunctions().describe_execution(executionArn=execution_arn(order_id))
    return json.loads(response.get("input") or "{}")


def execution_status(order_id: str) -> str:
    """Status of the execution named ``order_id`` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED...)."""
    try:
        response = _stepfunctions().describe_execution(executionArn=execution_arn(order_id))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "ResourceNotFoundException"):
            raise OrderNotFoundError(f"order {order_id} not found") from exc
        raise
    return response["status"]


def _events():
    if "events" not in _clients:
        _clients["events"] = boto3.client("events")
    return _clients["events"]


def _state_machine_arn(env_name: str) -> str:
    return config.require(env_name)


def start_named_execution(env_name: str, name: str, payload: dict, conflict: str | None = None) -> str:
    """Start an execution of the state machine named by ``env_name``; ExecutionAlreadyExists ->
    OrderAlreadyExistsError(``conflict``)."""
    return _start(_state_machine_arn(env_name), name, payload, conflict or f"execution {name} already exists")


def _start(machine_arn: str, name: str, payload: dict, conflict: str) -> str:
    """StartExecution named ``name``; ExecutionAlreadyExists -> OrderAlreadyExistsError(conflict)."""
    try:
        response = _stepfunctions().start_execution(stateMachineArn=machine_arn, name=name,
                                                    input=json.dumps(payload))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            raise OrderAlreadyExistsError(conflict) from exc
        raise
    return response["executionArn"]


def start_sync_execution(env_name: str, payload: dict) -> dict:
    """StartSyncExecution of the Express state machine named by ``env_name``: status, output, error, cause."""
    response = _stepfunctions().start_sync_execution(stateMachineArn=_state_machine_arn(env_name),
                                                     input=json.dumps(payload))
    return {"status": response["status"], "output": response.get("output"), "error": response.get("error"),
            "cause": response.get("cause"), "execution_arn": response["executionArn"]}


def send_task_success(token: str, output: dict) -> None:
    _task_call("send_task_success", taskToken=token, output=json.dumps(output))


def send_task_failure(token: str, error: str, cause: str) -> None:
    _task_call("send_task_failure", taskToken=token, error=error, cause=cause)


def send_task_heartbeat(token: str) -> None:
    _task_call("send_task_heartbeat", taskToken=token)


def _task_call(operation: str, **kwargs: Any) -> None:
    try:
        getattr(_stepfunctions(), operation)(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            raise ApprovalNotPendingError(f"the approval task has ended ({exc.response['Error']['Code']})") from exc
        raise


# orders: approval --------------------------------------------------------------------------------------------


def record_approval_request(order_id: str, token: str, now: str) -> bool:
    """Transition ``await_approval``: PROCESSING (or AWAITING_APPROVAL, on a redelivered request) -> AWAITING_APPROVAL
    with the task token."""
    return transition_order(order_id, "await_approval", now, task_token=token, approval_requested_at=now)


# payments ----------------------------------------------------------------------------------------------------


def get_payment(order_id: str) -> dict | None:
    response = _table(config.PAYMENTS_TABLE_NAME).get_item(Key={"order_id": order_id}, ConsistentRead=True)
    return response.get("Item")


def _order_update(order_id: str, name: str, now: str, **fields: Any) -> dict:
    """The orders-table half of a transaction performing transition ``name`` (a payment or reservation one)."""
    transition = lifecycle.TRANSITIONS[name]
    rule = lifecycle.condition(name)
    names = {**rule.names, f"#{transition.field}": transition.field, "#updated_at": "updated_at"}
    values: dict[str, Any] = {**rule.values, ":to": transition.target, ":now": now}
    assignments = [f"#{transition.field} = :to", "#updated_at = :now"]
    for index, (field, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = field
        values[f":f{index}"] = value
        assignments.append(f"#f{index} = :f{index}")
    return {"Update": {"TableName": config.require(config.ORDERS_TABLE_NAME), "Key": {"order_id": order_id},
                       "UpdateExpression": "SET " + ", ".join(assignments), "ConditionExpression": rule.expression,
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def _transact(actions: list[dict]) -> bool:
    """TransactWriteItems; False when a condition cancelled it (nothing written)."""
    try:
        _dynamodb().meta.client.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


def record_charge(row: dict, now: str) -> bool:
    """Transition ``charge``: the payments row ``row`` (status CHARGED) and the order's payment_status, in one
    transaction. False (nothing written) when the order has a payment already or is no longer PROCESSING."""
    payments = config.require(config.PAYMENTS_TABLE_NAME)
    return _transact([
        {"Put": {"TableName": payments, "Item": row, "ConditionExpression": "attribute_not_exists(order_id)"}},
        _order_update(row["order_id"], "charge", now, charge_id=row["charge_id"]),
    ])


def record_refund(order_id: str, refund_id: str, now: str) -> bool:
    """Transition ``refund``: CHARGED -> REFUNDED on the payments row and the order, in one transaction. False when
    the payment is not CHARGED (absent or refunded already) or the order is not FAILED."""
    payments = config.require(config.PAYMENTS_TABLE_NAME)
    return _transact([
        {"Update": {"TableName": payments, "Key": {"order_id": order_id},
                    "UpdateExpression": "SET #status = :refunded, refund_id = :refund_id, refunded_at = :now",
                    "ConditionExpression": "#status = :charged",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":refunded": Status.REFUNDED,
                                                  ":charged": Status.CHARGED,
                                                  ":refund_id": refund_id, ":now": now}}},
        _order_update(order_id, "refund", now, refund_id=refund_id),
    ])


# inventory reservations --------------------------------------------------------------------------------------


def _stock_transaction(order_id: str, items: list[dict], delta_sign: int, name: str, now: str) -> bool:
    """Move the stock of ``items`` by ``delta_sign * quantity`` and perform reservation transition ``name`` on the
    order, atomically. Taking stock requires enough of it. Returns False when a condition cancels the transaction."""
    inventory = config.require(config.INVENTORY_TABLE_NAME)
    actions: list[dict] = []
    for item in items:
        update: dict[str, Any] = {
            "TableName": inventory,
            "Key": {"sku": item["sku"]},
            "UpdateExpression": "SET stock = stock + :delta",
            "ExpressionAttributeValues": {":delta": delta_sign * item["quantity"]},
        }
        if delta_sign < 0:
            update["ConditionExpression"] = "stock >= :quantity"
            update["ExpressionAttributeValues"][":quantity"] = item["quantity"]
        actions.append({"Update": update})
    actions.append(_order_update(order_id, name, now, reservation_updated_at=now))
    return _transact(actions)


def reserve_stock(order_id: str, items: list[dict], now: str) -> bool:
    """Transition ``reserve``: take the stock of ``items`` while the order is PROCESSING."""
    return _stock_transaction(order_id, items, -1, "reserve", now)


def release_stock(order_id: str, items: list[dict], now: str) -> bool:
    """Transition ``release``: give the reserved stock back once the order is FAILED."""
    return _stock_transaction(order_id, items, +1, "release", now)


# batches -----------------------------------------------------------------------------------------------------


def put_new_batch(row: dict) -> bool:
    """Record a new batch unless its id exists. Returns False on conflict."""
    return _put_new(config.BATCHES_TABLE_NAME, "batch_id", row)


def get_batch(batch_id: str) -> dict | None:
    response = _table(config.BATCHES_TABLE_NAME).get_item(Key={"batch_id": batch_id}, ConsistentRead=True)
    return response.get("Item")


def complete_batch(batch_id: str, fields: dict) -> None:
    names = {"#status": "status"}
    values: dict[str, Any] = {":status": Status.COMPLETED}
    assignments = ["#status = :status"]
    for index, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
        assignments.append(f"#f{index} = :f{index}")
    _table(config.BATCHES_TABLE_NAME).update_item(
        Key={"batch_id": batch_id}, UpdateExpression="SET " + ", ".join(assignments),
        ExpressionAttributeNames=names, ExpressionAttributeValues=values)


# customers ---------------------------------------------------------------------------------------------------


def put_new_customer(row: dict) -> bool:
    """Record a new customer unless the id exists. Returns False on conflict."""
    return _put_new(config.CUSTOMERS_TABLE_NAME, "customer_id", row)


# events ------------------------------------------------------------------------------------------------------

EVENT_SOURCES = {"OrderPlaced": "dofs.orders", "OrderFulfilled": "dofs.orders", "OrderFailed": "dofs.orders",
                 "CustomerCreated": "dofs.customers"}


def put_event(detail_type: str, detail: dict) -> str:
    """Put one event on the app's bus; a rejected entry raises (never dropped silently). Returns its id."""
    response = _events().put_events(Entries=[{
        "EventBusName": config.require(config.EVENT_BUS_NAME),
        "Source": EVENT_SOURCES[detail_type],
        "DetailType": detail_type,
        "Detail": json.dumps(detail, sort_keys=True),
    }])
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise EventPublishError(f"{detail_type} rejected: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
    return entry["EventId"]
