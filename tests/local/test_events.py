"""Every file in events/ gives the result events/README.md documents: the table is this test's data.

One local runtime, started fresh for this file (never a shared one): before each row, whatever the previous rows
started has ended (an execution left waiting for a callback is stopped) and every table holds exactly
data/sample_data.json again, so each row meets the fresh runtime its expected result is written for. Each row is
invoked as ``make invoke`` invokes it (local_runtime.invoke.call, through the endpoint)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

import boto3
import pytest

from local_runtime.invoke import Outcome, call, current_state
from local_runtime.provision import load_sample_data
from local_runtime.template import load_template
from tests.support.local_stack import REPO_ROOT, LocalStack
from tests.support.polling import wait_until

EVENTS = REPO_ROOT / "events"
SAMPLE_DATA = REPO_ROOT / "data" / "sample_data.json"
SETTLE_SECONDS = 60.0


@dataclass
class Row:
    event: str
    target: str
    expected: str
    overrides: dict[str, str] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)  # events invoked first (with their own expected results)
    needs_order: tuple[str, str] | None = None  # (order id, status) to wait for before invoking


def table_rows() -> list[Row]:
    rows = []
    for line in (EVENTS / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"`[\w.]+\.json`", cells[0]):
            continue
        invoke, expected = cells[1], cells[2]
        overrides = dict(pair.split("=", 1) for pair in
                         re.findall(r"PARAMETER_OVERRIDES=(\S+?)`", invoke)[0].split() if pair) \
            if "PARAMETER_OVERRIDES=" in invoke else {}
        order = re.search(r"order `([\w-]+)` `([A-Z_]+)`", invoke)
        rows.append(Row(event=cells[0].strip("`"), target=re.search(r"FN=(\w+)", invoke).group(1),
                        expected=expected.strip("`"), overrides=overrides,
                        after=re.findall(r"after `([\w.]+\.json)`", invoke),
                        needs_order=(order.group(1), order.group(2)) if order else None))
    return rows


ROWS = table_rows()


def test_the_table_documents_every_event_once():
    files = sorted(path.name for path in EVENTS.glob("*.json"))
    assert sorted(row.event for row in ROWS) == files


@pytest.fixture(scope="module")
def runtime():
    overrides: dict[str, str] = {}
    for row in ROWS:
        for key, value in row.overrides.items():
            assert overrides.setdefault(key, value) == value, f"rows need different {key}"
    stack = LocalStack(overrides, time_scale=0.01, extra_env={"WATCH": "0"})
    resolved = load_template(REPO_ROOT / "template.yaml", overrides, endpoint_url=stack.endpoint)
    yield stack, resolved
    stack.cleanup()


def subset(actual, expected) -> bool:
    """Every field of ``expected`` is in ``actual`` with that value (dicts recursively; lists exactly)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset(actual[k], v) for k, v in expected.items())
    return actual == expected


def check(stack: LocalStack, resolved, row_event: str, target: str, expected: str) -> str | None:
    """Invoke and compare; returns the execution ARN of an execution expected to stay RUNNING."""
    payload = (EVENTS / row_event).read_bytes()
    status = re.match(r"(\d{3}) ", expected)
    running = re.fullmatch(r"RUNNING at (\w+)", expected)
    outcome: Outcome = call(stack.endpoint, resolved, target, payload, wait=0 if running else SETTLE_SECONDS)
    where = f"{row_event} -> {target}: {outcome.text}"
    if running:
        result = json.loads(outcome.text)
        sfn = stack.client("stepfunctions")
        wait_until(lambda: current_state(sfn, result["executionArn"]), SETTLE_SECONDS,
                   lambda state: f"{where}: in {state}, not {running.group(1)}", accept=lambda s: s == running.group(1))
        assert sfn.describe_execution(executionArn=result["executionArn"])["status"] == "RUNNING", where
        return result["executionArn"]
    if expected.startswith("SUCCEEDED "):
        result = json.loads(outcome.text)
        assert result["status"] == "SUCCEEDED", where
        assert subset(result["output"], json.loads(expected[len("SUCCEEDED "):])), where
        return None
    assert not outcome.failed, where
    response = json.loads(outcome.text)
    if status:
        assert response["statusCode"] == int(status.group(1)), where
        assert subset(json.loads(response["body"]), json.loads(expected[4:])), where
    else:
        assert subset(response, json.loads(expected)), where
    return None


def settle(stack: LocalStack, waiting: list[str]) -> None:
    """Stop executions left waiting for a callback, wait for everything else started so far to end."""
    sfn, sqs = stack.client("stepfunctions"), stack.client("sqs")
    for arn in waiting:
        sfn.stop_execution(executionArn=arn, error="Test.Settle", cause="the next row needs a fresh runtime")
    waiting.clear()
    machines = [arn for key, arn in stack.outputs.items() if key.endswith("StateMachineArn")]
    queues = [stack.outputs["FulfillmentQueueUrl"], stack.outputs["FulfillmentDlqUrl"]]

    def busy() -> list[str]:
        found = [e["executionArn"] for m in machines
                 for e in sfn.list_executions(stateMachineArn=m, statusFilter="RUNNING")["executions"]]
        for url in queues:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if sum(int(attributes[k]) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                                "ApproximateNumberOfMessagesDelayed")):
                found.append(url)
        return found

    wait_until(busy, SETTLE_SECONDS, lambda left: f"still running: {left}", accept=lambda left: not left)


def restore_sample_data(stack: LocalStack, resolved) -> None:
    """Every table back to exactly data/sample_data.json: rows the events added go, changed rows are put back."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    sample = json.loads(SAMPLE_DATA.read_text(), parse_float=Decimal)
    for resource in resolved.of_type("AWS::DynamoDB::Table"):
        table = dynamodb.Table(resource.physical_id)
        keys = [k["AttributeName"] for k in table.key_schema]
        short = resource.logical_id[:-len("Table")].lower()
        kept = {tuple(item[k] for k in keys) for item in sample.get(short, [])}
        for item in table.scan(ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys))),
                               ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(keys)})["Items"]:
            if tuple(item[k] for k in keys) not in kept:
                table.delete_item(Key={k: item[k] for k in keys})
    load_sample_data(resolved, SAMPLE_DATA, dynamodb)


def wait_order(stack: LocalStack, order_id: str, status: str) -> None:
    table = stack.table("OrdersTableName")
    wait_until(lambda: (table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item") or {}).get(
        "status"), SETTLE_SECONDS, lambda seen: f"order {order_id} is {seen}, not {status}",
        accept=lambda seen: seen == status)


def test_every_event_gives_its_documented_result(runtime):
    stack, resolved = runtime
    by_event = {row.event: row for row in ROWS}
    waiting: list[str] = []
    for row in ROWS:
        settle(stack, waiting)
        restore_sample_data(stack, resolved)
        for first in row.after:  # what the row needs (an execution it answers, say): not stopped at the end
            before = by_event[first]
            check(stack, resolved, before.event, before.target, before.expected)
        if row.needs_order:
            wait_order(stack, *row.needs_order)
        arn = check(stack, resolved, row.event, row.target, row.expected)
        if arn:
            waiting.append(arn)
