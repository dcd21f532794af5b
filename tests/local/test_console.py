"""The local console (``/_local/console/``) in a real browser: Debian's chromium driven by Playwright, against a
stack started as users start it. Each test does what a user does (place an order through the API, then look, click,
approve, redrive in the console) and checks what the page shows against what the AWS APIs answer.

Also, over plain HTTP: the console's same-origin routes refuse other origins, other hosts and calls outside their
allow-list, and list the Express executions that AWS's API does not.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.support import polling
from tests.support.orders import REVIEWER_KEY, new_order_id, place_order, wait_terminal

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def stack(local_stack_factory):
    """Fulfillment always succeeds; at scale 0.01 the 5 s and 10 s payment retries take 0.05 s and 0.1 s."""
    return local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser, stack):
    """A page of the console; fails the test on a JavaScript error or a request that leaves the endpoint. Its viewport:
    1500 x 1000, or (width, height) through ``indirect`` parametrization."""
    width, height = getattr(request, "param", (1500, 1000))
    context = browser.new_context(base_url=stack.endpoint, viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors, elsewhere = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(stack.endpoint + "/")
            else elsewhere.append(request.url))
    yield page
    context.close()
    assert errors == []
    assert elsewhere == []


def execution_url(arn: str) -> str:
    return f"/_local/console/#/executions/{quote(arn, safe='')}"


def history(stack, arn: str) -> list[dict]:
    return stack.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]


def state_events(events: list[dict], name: str) -> tuple[dict, dict]:
    """(entered, exited) details of the state ``name``'s only visit."""
    entered = [e["stateEnteredEventDetails"] for e in events
               if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == name]
    exited = [e["stateExitedEventDetails"] for e in events
              if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == name]
    assert len(entered) == len(exited) == 1, (name, entered, exited)
    return entered[0], exited[0]


def shown_json(page, selector: str):
    return json.loads(page.locator(f"{selector} pre.json").inner_text())


def expect_states(page, statuses: dict[str, str]) -> None:
    for name, status in statuses.items():
        expect(page.locator(f'svg.graph [data-state="{name}"]')).to_have_attribute("data-status", status)


FULFILLED_PATH = ["ValidateOrder", "StoreOrder", "PublishOrderPlaced", "LoadApprovalPolicy", "CheckApprovalNeeded",
                  "ChargeAndReserve", "ChargePayment", "ReserveInventory", "CheckResults", "EnqueueFulfillment",
                  "NotifyOrderConfirmed", "SummarizeOrder", "OrderAccepted"]


def test_an_order_is_followed_from_post_to_fulfilled_in_the_console(stack, page):
    api = stack.api()
    order_id = new_order_id("CONSOLE")
    accepted = place_order(api, {"orderId": order_id, "customerId": "CUST-001",
                                 "items": [{"sku": "SKU-001", "quantity": 2}]}).json()
    assert wait_terminal(api, [order_id])[order_id]["status"] == "FULFILLED"

    # Orders: the order is listed FULFILLED; its panel links to its execution
    page.goto("/_local/console/#/orders")
    row = page.locator(f'#orders tr[data-order="{order_id}"]')
    expect(row.locator(".badge")).to_have_text("FULFILLED")
    row.locator("a").click()
    expect(page.locator("#order-panel .badge").first).to_have_text("FULFILLED")
    page.locator("#order-execution-link").click()

    # the execution: SUCCEEDED, the path it took coloured, the other states not reached
    expect(page).to_have_url(re.compile(re.escape(quote(accepted["executionArn"], safe=""))))
    expect(page.locator(".page-head .badge")).to_have_text("SUCCEEDED")
    expect_states(page, {name: "succeeded" for name in FULFILLED_PATH})
    expect_states(page, {"DescribeRejection": "notreached", "NotifyApprovalNeeded": "notreached",
                         "PaymentDeclined": "notreached", "RefundPayment": "notreached", "OrderFailed": "notreached"})
    expect(page.locator('.edge.taken[data-from="__start__"][data-to="ValidateOrder"]')).to_have_count(1)
    expect(page.locator('.edge.taken[data-from="OrderAccepted"][data-to="__end__"]')).to_have_count(1)
    expect(page.locator('.edge.taken[data-from="CheckApprovalNeeded"][data-to="ChargeAndReserve"]')).to_have_count(1)

    # a click on ChargePayment: its input, effective parameters and output, as the history records them
    page.locator('svg.graph [data-state="ChargePayment"]').click()
    expect(page.locator("#state-panel h2")).to_have_text("ChargePayment")
    entered, exited = state_events(history(stack, accepted["executionArn"]), "ChargePayment")
    assert shown_json(page, "#state-input") == json.loads(entered["input"])
    assert shown_json(page, "#state-output") == json.loads(exited["output"])
    assert shown_json(page, "#state-parameters")["Payload"] == {
        "order_id": order_id, "customer_id": "CUST-001", "amount_cents": 17998, "attempt": 0}
    expect(page.locator("#attempts li.attempt")).to_have_count(1)
    expect(page.locator("#attempts li.attempt")).to_contain_text("succeeded")


def test_a_declined_payment_shows_the_caught_error_and_the_compensation_path(stack, page):
    order_id = new_order_id("CONSOLE-DECL")
    accepted = place_order(stack.api(), {"orderId": order_id, "customerId": "CUST-004",
                                         "items": [{"sku": "SKU-002", "quantity": 1}]}).json()
    described = polling.wait_execution(stack.client("stepfunctions"), accepted["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "PaymentFailed", "PaymentFailedError: card declined for 1299 cents")

    page.goto(execution_url(accepted["executionArn"]))
    expect(page.locator(".page-head .badge")).to_have_text("FAILED")
    expect(page.locator("#execution-error .error-name")).to_have_text("PaymentFailed")
    expect(page.locator("#execution-error")).to_contain_text("PaymentFailedError: card declined for 1299 cents")
    expect_states(page, {"ChargePayment": "caught", "OrderFailed": "failed", "ReserveInventory": "succeeded",
                         "PaymentDeclined": "succeeded", "CheckResults": "succeeded",
                         "DescribePaymentFailure": "succeeded", "UpdateOrderFailed": "succeeded",
                         "CompensateFailedOrder": "succeeded", "RefundPayment": "succeeded",
                         "ReleaseInventory": "succeeded", "RecordWorkflowFailure": "succeeded",
                         "NotifyOrderFailed": "succeeded", "EnqueueFulfillment": "notreached",
                         "SummarizeFulfilledOrder": "notreached", "HandOffToDlq": "notreached"})
    expect(page.locator('.edge.kind-catch.taken[data-from="ChargePayment"][data-to="PaymentDeclined"]')).to_have_count(1)
    expect(page.locator('.edge.taken[data-from="CheckResults"][data-to="DescribePaymentFailure"]')).to_have_count(1)
    expect(page.locator('.edge.taken[data-from="UpdateOrderFailed"][data-to="CompensateFailedOrder"]')).to_have_count(1)
    expect(page.locator('.edge.taken[data-from="OrderFailed"][data-to="__end__"]')).to_have_count(1)
    # the page opens on the state whose error was caught: its error name and message, and where the Catch led
    expect(page.locator("#state-panel h2")).to_have_text("ChargePayment")
    expect(page.locator("#state-status")).to_have_text("caught")
    expect(page.locator("#state-error .error-name")).to_have_text("PaymentFailedError")
    expect(page.locator("#state-error")).to_contain_text("card declined for 1299 cents")
    expect(page.locator("#state-error .caught-line")).to_have_text(
        "Caught by Catch #1 (PaymentFailedError) → PaymentDeclined")
    # the Fail state: the execution's error
    page.locator('svg.graph [data-state="OrderFailed"]').click()
    expect(page.locator("#state-error .error-name")).to_have_text("PaymentFailed")
    # the event history as a table, as GetExecutionHistory returns it
    page.locator('.tab[data-tab="events"]').click()
    events = history(stack, accepted["executionArn"])
    expect(page.locator("#history tbody tr")).to_have_count(len(events))
    expect(page.locator("#history tbody tr").last.locator("td.type")).to_have_text("ExecutionFailed")


def test_an_order_above_the_threshold_is_approved_from_the_console_and_fulfilled(stack, page):
    api = stack.api()
    accepted = awaiting_approval(stack, "CONSOLE-APPR")
    order_id = accepted["orderId"]

    page.goto("/_local/console/#/orders")
    pending = page.locator(f'#pending tr[data-pending="{order_id}"]')
    expect(pending).to_contain_text("$1,079.88")
    pending.locator("input").fill("known customer")
    pending.locator(f'[data-approve="{order_id}"]').click()

    assert wait_terminal(api, [order_id])[order_id]["status"] == "FULFILLED"
    expect(page.locator(f'#orders tr[data-order="{order_id}"] .badge')).to_have_text("FULFILLED")
    expect(page.locator(f'#pending tr[data-pending="{order_id}"]')).to_have_count(0)
    # the decision went through the app's approval route, as the reviewer: the workflow got it from the callback
    events = history(stack, accepted["executionArn"])
    _, exited = state_events(events, "AwaitApproval")
    assert {k: v for k, v in json.loads(exited["output"])["approval"].items() if k != "decided_at"} == {
        "decision": "approve", "comment": "known customer"}


# where each box of the graph is drawn against what its host shows (its box inside the borders and the scrollbars)
GRAPH_VIEW = """() => {
  const host = document.querySelector(".graph-host");
  const box = host.getBoundingClientRect();
  const left = box.left + host.clientLeft;
  const top = box.top + host.clientTop;
  const shown = { left, top, right: left + host.clientWidth, bottom: top + host.clientHeight };
  const nodes = {};
  for (const g of host.querySelectorAll("svg.graph [data-state], svg.graph [data-terminal]")) {
    const r = g.getBoundingClientRect();
    nodes[g.dataset.state || g.dataset.terminal] = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  }
  const svg = host.querySelector("svg.graph");
  return { shown, nodes, scrollWidth: host.scrollWidth, clientWidth: host.clientWidth, scrollLeft: host.scrollLeft,
           scrollTop: host.scrollTop, svg: [svg.getAttribute("width"), svg.getAttribute("height")] };
}"""


def graph_view(page) -> dict:
    # the views draw, then scroll to the state they open on in the next animation frame: let two frames pass
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return page.evaluate(GRAPH_VIEW)


def outside_width(view: dict) -> dict:
    """The boxes of the graph not wholly inside the host's width, with their left and right edges."""
    shown = view["shown"]
    return {name: (round(box["left"]), round(box["right"])) for name, box in view["nodes"].items()
            if box["left"] < shown["left"] - 0.5 or box["right"] > shown["right"] + 0.5}


def in_view(view: dict, name: str) -> bool:
    box, shown = view["nodes"][name], view["shown"]
    return (box["left"] >= shown["left"] - 0.5 and box["right"] <= shown["right"] + 0.5
            and box["top"] >= shown["top"] - 0.5 and box["bottom"] <= shown["bottom"] + 0.5)


def state_names(machine: dict) -> list[str]:
    """Every state of an ASL definition, those of Parallel branches and Map processors included."""
    names = []
    for name, state in machine["States"].items():
        names.append(name)
        for inner in [*state.get("Branches", []), *([state["ItemProcessor"]] if "ItemProcessor" in state else [])]:
            names.extend(state_names(inner))
    return names


def awaiting_approval(stack, prefix: str = "CONSOLE-FIT") -> dict:
    """An order above the approval threshold, its execution waiting in AwaitApproval."""
    api = stack.api()
    order_id = new_order_id(prefix)
    accepted = place_order(api, {"orderId": order_id, "customerId": "CUST-002",
                                 "items": [{"sku": "SKU-001", "quantity": 12}]}).json()
    polling.wait_until(lambda: api.get(f"orders/{order_id}").json().get("status"), 30,
                       f"{order_id} never AWAITING_APPROVAL", 0.05, accept=lambda s: s == "AWAITING_APPROVAL")
    return accepted


@pytest.mark.parametrize("page", [(1280, 800), (1920, 1080)], indirect=True, ids=["1280x800", "1920x1080"])
def test_the_graph_opens_fitted_to_its_width_on_the_machine_and_the_execution_pages(stack, page):
    """The order workflow's graph is wider than the host at a readable scale: it opens as Fit shows it, every box
    within the host's width (no box cut at the left or right edge, no sideways scrolling), the top or the state it
    opens on in view; the graph is taller than the host, which scrolls down."""
    arn = stack.outputs["OrderStateMachineArn"]
    page.goto(f"/_local/console/#/state-machines/{quote(arn, safe='')}")
    expect(page.locator('svg.graph [data-state="DuplicateOrder"]')).to_have_count(1)
    view = graph_view(page)
    definition = json.loads(stack.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
    assert set(view["nodes"]) == {"Start", "End", *state_names(definition)}  # 44 states, nested ones included
    assert outside_width(view) == {}
    assert (view["scrollWidth"], view["scrollLeft"]) == (view["clientWidth"], 0)
    assert in_view(view, "Start")
    assert in_view(view, "DuplicateOrder")

    accepted = awaiting_approval(stack)
    page.goto(execution_url(accepted["executionArn"]))
    expect(page.locator("#state-panel h2")).to_have_text("AwaitApproval")  # it opens on the state running now
    view = graph_view(page)
    assert outside_width(view) == {}
    assert (view["scrollWidth"], view["scrollLeft"]) == (view["clientWidth"], 0)
    assert in_view(view, "AwaitApproval")

    # a narrower window: still the whole width, until the user zooms or pans
    page.set_viewport_size({"width": 1180, "height": 800})
    view = graph_view(page)  # the host's resize is observed in the frame after the resize, before the next one
    assert outside_width(view) == {}
    assert view["scrollWidth"] == view["clientWidth"]


def test_a_user_who_zoomed_and_panned_keeps_the_view_through_live_updates(stack, page):
    accepted = awaiting_approval(stack)
    page.goto(execution_url(accepted["executionArn"]))
    expect(page.locator("#state-panel h2")).to_have_text("AwaitApproval")
    page.locator(".graph-col .zoom button", has_text="+").click()
    host = page.locator(".graph-host").bounding_box()
    page.mouse.move(host["x"] + host["width"] / 2, host["y"] + host["height"] / 2)
    page.mouse.wheel(120, 200)
    page.wait_for_function("() => document.querySelector('.graph-host').scrollLeft > 0")
    before = graph_view(page)
    assert outside_width(before) != {}  # zoomed in beyond the width

    answer = stack.api(REVIEWER_KEY).post(f"orders/{accepted['orderId']}/approval", {"decision": "approve"})
    assert answer.status_code == 200, answer.text
    # live: the page polls the history, repaints the path and the status as the execution goes on
    expect(page.locator(".page-head .badge")).to_have_text("SUCCEEDED")
    expect(page.locator('svg.graph [data-state="OrderAccepted"]')).to_have_attribute("data-status", "succeeded")
    after = graph_view(page)
    assert (after["svg"], after["scrollLeft"], after["scrollTop"]) == (
        before["svg"], before["scrollLeft"], before["scrollTop"])


def test_a_message_in_a_dlq_is_redriven_from_the_console(stack, page):
    sqs = stack.client("sqs")
    tag = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"console-dlq-{tag}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source_url = sqs.create_queue(QueueName=f"console-src-{tag}", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    sqs.send_message(QueueUrl=source_url, MessageBody='{"order": "redrive me"}')
    assert len(sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)["Messages"]) == 1
    assert sqs.receive_message(QueueUrl=source_url).get("Messages", []) == []  # moved to the DLQ on this receive

    page.goto("/_local/console/#/queues")
    expect(page.locator(f'#queues tr[data-queue="console-dlq-{tag}"] .depth')).to_have_text("1")
    panel = page.locator(f'[data-dlq="console-dlq-{tag}"]')
    panel.locator("[data-poll]").click()
    expect(panel.locator("details.message")).to_have_count(1)
    expect(panel.locator("details.message pre")).to_contain_text('"order": "redrive me"')
    panel.locator("[data-redrive]").click()
    page.locator("#confirm-redrive").click()
    expect(panel.locator(".task [data-status]")).to_have_text("COMPLETED")
    expect(panel.locator(".task")).to_contain_text("1 of 1 moved")

    assert sqs.receive_message(QueueUrl=source_url)["Messages"][0]["Body"] == '{"order": "redrive me"}'
    assert sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], "DestinationArn" in task) == ("COMPLETED", 1, False)


# -- the console's routes, over HTTP -----------------------------------------------------------------------------------


def console_post(stack, route: str, body: dict, **headers) -> requests.Response:
    return requests.post(f"{stack.endpoint}/_local/console/api/{route}", json=body, timeout=10,
                         headers={"X-DOFS-Console": "1", **headers})


def test_the_console_routes_answer_only_the_console(stack):
    list_machines = {"service": "stepfunctions", "operation": "ListStateMachines", "params": {}}
    assert console_post(stack, "aws", list_machines).status_code == 200
    without_header = requests.post(f"{stack.endpoint}/_local/console/api/aws", json=list_machines, timeout=10)
    assert (without_header.status_code, without_header.json()["error"]["Message"]) == (
        403, "missing X-DOFS-Console: 1")
    other_origin = console_post(stack, "aws", list_machines, Origin="http://evil.example")
    assert (other_origin.status_code, other_origin.json()["error"]["Code"]) == (403, "Forbidden")
    rebound = console_post(stack, "aws", list_machines, Host="evil.example")
    assert (rebound.status_code, rebound.json()["error"]["Message"]) == (
        403, "host 'evil.example' is not a loopback name")
    not_allowed = console_post(stack, "aws", {"service": "dynamodb", "operation": "DeleteTable",
                                              "params": {"TableName": stack.outputs["OrdersTableName"]}})
    assert (not_allowed.status_code, not_allowed.json()["error"]["Message"]) == (
        403, "the console does not call dynamodb:DeleteTable")
    outside = console_post(stack, "app", {"method": "GET", "path": "http://example.com/x"})
    assert outside.status_code == 400
    config = requests.get(f"{stack.endpoint}/_local/console/api/config", timeout=10).text
    assert sorted(json.loads(config)["apiKeys"]) == sorted(stack.api_keys)  # the keys' names, never their values
    assert not any(value in config for value in stack.api_keys.values())
    # the API's own answer to the console's key choice: a client's key may not decide approvals
    forbidden = console_post(stack, "app", {"method": "POST", "path": "orders/NOPE/approval",
                                            "body": {"decision": "approve"}, "key": "CustomerApiKey"})
    assert forbidden.json()["status"] == 403
    assert console_post(stack, "app", {"method": "POST", "path": "orders/NOPE/approval",
                                       "body": {"decision": "approve"}, "key": REVIEWER_KEY}).json()["status"] == 404


def test_express_executions_started_synchronously_are_listed(stack):
    quote_machine = stack.outputs["QuoteStateMachineArn"]
    answer = stack.api().post("quotes", {"items": [{"sku": "SKU-002", "quantity": 3}]})
    assert answer.status_code == 200, answer.text
    listed = requests.get(f"{stack.endpoint}/_local/console/api/express",
                          params={"stateMachineArn": quote_machine}, timeout=10).json()["executions"]
    assert listed and listed[0]["status"] == "SUCCEEDED" and ":express:" in listed[0]["executionArn"]
    record = requests.get(f"{stack.endpoint}/_local/console/api/express/execution",
                          params={"executionArn": listed[0]["executionArn"]}, timeout=10).json()
    assert record["events"][0]["type"] == "ExecutionStarted"
    assert record["events"][-1]["type"] == "ExecutionSucceeded"
    assert json.loads(record["execution"]["output"]) == json.loads(record["events"][-1]["executionSucceededEventDetails"]["output"])


def test_a_batch_links_its_child_executions_both_ways_and_draws_its_map(stack, page):
    batch = new_order_id("CONSOLE-BATCH")
    orders = [{"orderId": f"{batch}-{i}", "customerId": customer, "items": [{"sku": "SKU-002", "quantity": 1}]}
              for i, customer in enumerate(["CUST-001", "CUST-004"])]
    response = stack.api().post("orders/batch", {"batchId": batch, "orders": orders})
    assert response.status_code == 202, response.text
    parent_arn = response.json()["executionArn"]
    assert polling.wait_execution(stack.client("stepfunctions"), parent_arn)["status"] == "SUCCEEDED"

    page.goto(execution_url(parent_arn))
    # the Map's item processor is a nested group; its one state ran once per item
    expect(page.locator('svg.graph .group[data-state="ProcessOrders"]')).to_have_attribute("data-status", "succeeded")
    expect(page.locator('svg.graph [data-state="RunOrderWorkflow"] .count')).to_have_text("×2")
    child_links = page.locator("#child-links a.child-link")
    expect(child_links).to_have_count(2)
    assert sorted(child_links.all_inner_texts()) == [f"{batch}-0", f"{batch}-1"]
    page.locator("#child-links a.child-link", has_text=f"{batch}-1").click()
    expect(page.locator(".page-head h1")).to_contain_text(f"{batch}-1")
    expect(page.locator(".page-head .badge")).to_have_text("FAILED")  # CUST-004's card is declined
    page.locator("#parent-link a").click()
    expect(page.locator(".page-head h1")).to_contain_text(batch)
    expect(page.locator("#child-links a.child-link")).to_have_count(2)


PAGED = {"StartAt": "Check", "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.wait", "BooleanEquals": True, "Next": "Hold"}],
              "Default": "Done"},
    "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}


def test_a_user_created_machine_pages_its_executions_and_starts_and_stops_one(stack, page):
    sfn = stack.client("stepfunctions")
    name = f"console-pages-{uuid.uuid4().hex[:8]}"
    machine = sfn.create_state_machine(name=name, definition=json.dumps(PAGED),
                                       roleArn="arn:aws:iam::123456789012:role/console-test")["stateMachineArn"]
    for i in range(120):
        sfn.start_execution(stateMachineArn=machine, name=f"run-{i:03d}", input='{"wait": false}')
    polling.wait_until(lambda: len(sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED",
                                                       maxResults=1000)["executions"]), 30,
                       "120 executions not all SUCCEEDED", accept=lambda n: n == 120)

    page.goto("/_local/console/#/state-machines")
    page.locator(f'#machines tr[data-machine="{name}"] a').click()
    rows = page.locator("#executions tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_have_attribute("data-execution", "run-119")  # the newest first, as ListExecutions
    page.locator("#next-page").click()
    expect(rows.first).to_have_attribute("data-execution", "run-069")
    page.locator("#next-page").click()
    expect(rows).to_have_count(20)
    expect(page.locator("#next-page")).to_be_disabled()
    page.locator("#name-filter").fill("run-00")
    expect(rows).to_have_count(10)
    expect(page.locator(".page-info")).to_have_text("Page 1 · 10 matches in 120 scanned")
    expect(page.locator('svg.graph [data-state="Hold"]')).to_have_count(1)
    expect(page.locator('svg.graph .edge-label', has_text="$.wait == true")).to_have_count(1)

    # Start execution with JSON input, then Stop it while it waits
    page.locator("#start-execution").click()
    page.locator("#execution-name").fill("started-from-console")
    page.locator("#execution-input").fill('{"wait": true}')
    page.locator("#confirm-start").click()
    expect(page.locator(".page-head h1")).to_contain_text("started-from-console")
    expect(page.locator(".page-head .badge")).to_have_text("RUNNING")
    expect(page.locator('svg.graph [data-state="Hold"]')).to_have_attribute("data-status", "running")
    page.locator("#stop-execution").click()
    page.locator("#confirm-stop").click()
    expect(page.locator(".page-head .badge")).to_have_text("ABORTED")
    expect(page.locator('svg.graph [data-state="Hold"]')).to_have_attribute("data-status", "cancelled")
    described = sfn.describe_execution(executionArn=machine.replace(":stateMachine:", ":execution:") +
                                       ":started-from-console")
    assert (described["status"], json.loads(described["input"])) == ("ABORTED", {"wait": True})
