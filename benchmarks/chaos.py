"""``make chaos N=.. C=..``: N orders at concurrency C against a fresh local stack with injected faults, then a
reconciliation of every order, every cent and every unit of stock.

The stack is started as users start it (``python -m local_runtime serve``) with the template's defaults
(FulfillmentSuccessRate 0.7, MaxReceiveCount 3), a small TIME_SCALE, a SAMPLE_DATA file written for the run (the
sample customers; stock raised so that it never runs out) and ``FAULTS`` (local_runtime/awslambda/faults.py): handler errors
and timeouts of the workflow's, the consumers' and the compensations' functions, duplicate SQS deliveries. While the
orders go in, a killer thread SIGKILLs a random Lambda worker process every ``--kill-every`` seconds (not the API
function's unless ``--kill-api``). Orders are POSTed by C client threads, each with its own Idempotency-Key; a 5xx,
a 429 or a connection error is retried with the same key.

After the last POST the run drains: it waits until every accepted order is FULFILLED or FAILED, no order execution
runs and both queues are empty (or until nothing has changed for ``--stall-seconds``), then reads every table.

Reconciliation (``reconcile``), each line an invariant; the exit code is 1 when one breaks:

* lost: accepted (202) but no row in the orders table; stuck: a row that is neither FULFILLED nor FAILED;
* duplicates: order executions that no accepted order id names (a retried POST that made a second order);
* money: every payment row is a charge of its amount; charged - refunded - (totals of the FULFILLED orders) must be
  0, and per order: a FULFILLED order holds exactly its total CHARGED and not refunded; a FAILED order holds nothing
  net (no payment, or REFUNDED); no payment without an accepted order;
* stock: taken (orders whose reservation is RESERVED or RELEASED) - released - (units of the FULFILLED orders) must be
  0 per SKU, and the inventory table must show exactly initial - (units of the FULFILLED orders); per order a
  FULFILLED order holds its reservation, a FAILED one does not;
* 5xx: answers of 500 and above (expected only with ``--kill-api``: API Gateway's 502 for a crashed function);
* FAILED share against the prediction (``predict``), within max(2 points, 3 sigma of the binomial sampling error).

The prediction, from the configured rates only: an accepted order fails in its workflow when an injected error or
timeout hits one of the four steps every order runs once (ValidateOrder, StoreOrder, ChargePayment,
ReserveInventory; none of them retries an unnamed error): P_w = 1 - prod(1 - f_step), f_step = 1 - (1 - timeout)(1 -
error). Otherwise it reaches the queue, and each receive fails with q = 1 - FulfillmentSuccessRate; a duplicate
delivery (rate d per batch) gives a failed message a second draw, so a receive fails with q' = q (1 - d + d q); after
MaxReceiveCount failed receives it is dead-lettered and FAILED: P_dlq = q'^MaxReceiveCount. Faults of FulfillOrder,
of the compensations and of the DLQ handler strike after their handler ran (its work is done and idempotent) and are
retried, so they change no outcome. Predicted FAILED share = P_w + (1 - P_w) P_dlq, plus the orders that failed with
Runtime.ExitError: only a killed worker produces it, and whether a kill fails an order depends on what that worker
was doing, so kills are counted, not predicted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TERMINAL = ("FULFILLED", "FAILED")
WORKFLOW_STEPS = ("ValidateOrderFunction", "StoreOrderFunction", "ChargePaymentFunction", "ReserveInventoryFunction")
RETRIED_FUNCTIONS = ("RefundPaymentFunction", "ReleaseInventoryFunction", "FulfillOrderFunction",
                     "DlqHandlerFunction")
DEFAULT_FAULTS = ",".join([
    "error:0.01:" + "+".join(WORKFLOW_STEPS + RETRIED_FUNCTIONS),
    "timeout:0.002:" + "+".join(WORKFLOW_STEPS + RETRIED_FUNCTIONS),
    "duplicate:0.05:FulfillOrderFunction+DlqHandlerFunction",
])
SKUS = {"SKU-001": 8999, "SKU-002": 1299, "SKU-003": 32999}  # prices of data/sample_data.json
CUSTOMERS = ("CUST-001", "CUST-002")  # ACTIVE, tok_visa: only the injected faults fail an order
STOCK = 10_000_000


@dataclass
class ChaosConfig:
    orders: int = 500
    concurrency: int = 16
    time_scale: float = 0.01
    faults: str = DEFAULT_FAULTS
    faults_seed: int | None = None
    success_rate: float = 0.7  # the template's default FulfillmentSuccessRate
    max_receive_count: int = 3  # the template's default MaxReceiveCount
    kill_every: float = 5.0  # seconds between two worker kills; 0: none
    kill_api: bool = False
    rate: float = 0.0  # orders/s the clients keep to (open loop, at most `concurrency` in flight); 0: as fast as answered
    stall_seconds: float = 180.0
    drain_seconds: float = 3600.0
    seed: int | None = None


# -- prediction ---------------------------------------------------------------------------------------------------------


@dataclass
class Prediction:
    p_workflow: float
    p_receive: float
    p_dlq: float
    share: float


def _rate(rules, kind: str, function: str) -> float:
    """The probability that ``kind`` strikes an invocation of ``function`` (rules of one kind compound)."""
    miss = 1.0
    for rule in rules:
        if rule.kind == kind and rule.applies_to(function):
            miss *= 1 - rule.rate
    return 1 - miss


def predict(config: ChaosConfig) -> Prediction:
    """The FAULTS-predicted FAILED share (module docstring)."""
    from local_runtime.awslambda.faults import parse

    rules = parse(config.faults)
    p_pass = 1.0
    for step in WORKFLOW_STEPS:
        p_pass *= (1 - _rate(rules, "timeout", step)) * (1 - _rate(rules, "error", step))
    p_workflow = 1 - p_pass
    q = 1 - config.success_rate
    d = _rate(rules, "duplicate", "FulfillOrderFunction")
    p_receive = q * (1 - d + d * q)
    p_dlq = p_receive ** config.max_receive_count
    return Prediction(p_workflow, p_receive, p_dlq, p_workflow + (1 - p_workflow) * p_dlq)


# -- reconciliation -----------------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What a run leaves: the accepted order ids and every table row after the drain."""

    accepted: list[str]
    orders: dict[str, dict]
    payments: dict[str, dict]
    failed_orders: dict[str, dict]
    initial_stock: dict[str, int]
    stock: dict[str, int]
    executions: list[str]  # names of every order execution
    http: dict[int, int] = field(default_factory=dict)  # every answer seen (retries included), by status
    not_accepted: int = 0  # POSTs that never got a 202
    kills: dict[str, int] = field(default_factory=dict)  # SIGKILLs sent, by function directory
    injected: dict[str, dict[str, int]] = field(default_factory=dict)  # from the runtime log


@dataclass
class Report:
    accepted: int
    fulfilled: int
    failed: int
    failed_by_reason: dict[str, int]
    lost: list[str]
    stuck: dict[str, str]
    duplicates: list[str]
    charged_cents: int
    refunded_cents: int
    fulfilled_cents: int
    money_net_cents: int
    stock_taken: dict[str, int]
    stock_released: dict[str, int]
    stock_fulfilled: dict[str, int]
    stock_drop: dict[str, int]  # initial - current, per SKU
    server_errors: int
    failed_share: float
    predicted_share: float
    kill_failures: int
    tolerance: float
    violations: list[str]

    @property
    def ok(self) -> bool:
        return not self.violations


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, Decimal)) else int(Decimal(str(value)))


def failure_reason(order: dict, failed_row: dict | None) -> str:
    """What failed an order, by name: the dead-letter path, or the workflow's error."""
    if failed_row is None:
        return "(no failed_orders row)"
    if failed_row.get("source") == "FULFILLMENT":
        return "dead-lettered (FulfillmentFailedError)"
    if failed_row.get("source") == "VALIDATION":
        return "rejected: " + str(failed_row.get("reason", "")).split(":", 1)[0]
    return str(failed_row.get("error") or "(no error)")


def reconcile(snapshot: Snapshot, prediction: Prediction, config: ChaosConfig) -> Report:
    violations: list[str] = []
    accepted = set(snapshot.accepted)
    fulfilled = [i for i in accepted if (snapshot.orders.get(i) or {}).get("status") == "FULFILLED"]
    failed = [i for i in accepted if (snapshot.orders.get(i) or {}).get("status") == "FAILED"]
    lost = sorted(i for i in accepted if i not in snapshot.orders)
    stuck = {i: str(snapshot.orders[i].get("status")) for i in sorted(accepted)
             if i in snapshot.orders and snapshot.orders[i].get("status") not in TERMINAL}
    duplicates = sorted(set(snapshot.executions) - accepted)
    if lost:
        violations.append(f"lost: {len(lost)} accepted orders have no row (e.g. {lost[:3]})")
    if stuck:
        violations.append(f"stuck: {len(stuck)} orders not terminal (e.g. {list(stuck.items())[:3]})")
    if duplicates:
        violations.append(f"duplicates: {len(duplicates)} executions name no accepted order (e.g. {duplicates[:3]})")

    # money
    charged = sum(_int(p["amount_cents"]) for p in snapshot.payments.values())
    refunded = sum(_int(p["amount_cents"]) for p in snapshot.payments.values() if p.get("status") == "REFUNDED")
    fulfilled_cents = sum(_int(snapshot.orders[i].get("total_cents", 0)) for i in fulfilled)
    net = charged - refunded - fulfilled_cents
    if net:
        violations.append(f"money: charged {charged} - refunded {refunded} - fulfilled {fulfilled_cents} = {net} "
                          "cents, not 0")
    for order_id in sorted(set(snapshot.payments) - accepted):
        violations.append(f"money: payment of {order_id}, which is no accepted order")
    for order_id in fulfilled:
        payment, total = snapshot.payments.get(order_id), _int(snapshot.orders[order_id].get("total_cents", 0))
        if payment is None or payment.get("status") != "CHARGED" or _int(payment["amount_cents"]) != total:
            violations.append(f"money: FULFILLED {order_id} (total {total}) holds {payment and payment.get('status')}"
                              f" {payment and payment.get('amount_cents')}")
    for order_id in failed:
        payment = snapshot.payments.get(order_id)
        if payment is not None and payment.get("status") != "REFUNDED":
            violations.append(f"money: FAILED {order_id} still holds {payment.get('status')} "
                              f"{payment.get('amount_cents')} cents")
    for order_id in sorted(accepted & set(snapshot.orders)):
        mirrored, payment = snapshot.orders[order_id].get("payment_status"), snapshot.payments.get(order_id)
        if mirrored != (payment or {}).get("status"):
            violations.append(f"money: {order_id} says payment {mirrored}, the payments table {payment and payment.get('status')}")

    # stock
    taken: Counter = Counter()
    released: Counter = Counter()
    shipped: Counter = Counter()
    for order_id, row in snapshot.orders.items():
        reservation = row.get("reservation_status")
        for item in row.get("items") or []:
            quantity = _int(item["quantity"])
            if reservation in ("RESERVED", "RELEASED"):
                taken[item["sku"]] += quantity
            if reservation == "RELEASED":
                released[item["sku"]] += quantity
            if row.get("status") == "FULFILLED":
                shipped[item["sku"]] += quantity
        if row.get("status") == "FULFILLED" and reservation != "RESERVED":
            violations.append(f"stock: FULFILLED {order_id} has reservation {reservation}")
        if row.get("status") == "FAILED" and reservation == "RESERVED":
            violations.append(f"stock: FAILED {order_id} still holds its reservation")
    drop = {sku: snapshot.initial_stock[sku] - snapshot.stock.get(sku, 0) for sku in snapshot.initial_stock}
    for sku in sorted(set(taken) | set(shipped) | set(drop)):
        balance = taken[sku] - released[sku] - shipped[sku]
        if balance:
            violations.append(f"stock: {sku} taken {taken[sku]} - released {released[sku]} - fulfilled "
                              f"{shipped[sku]} = {balance}, not 0")
        if drop.get(sku, 0) != shipped[sku]:
            violations.append(f"stock: {sku} fell by {drop.get(sku, 0)} in the inventory table, {shipped[sku]} "
                              "units were fulfilled")

    # answers and the FAILED share
    server_errors = sum(count for status, count in snapshot.http.items() if status >= 500)
    if server_errors and not config.kill_api:
        violations.append(f"5xx: {server_errors} answers")
    if snapshot.not_accepted:
        violations.append(f"not accepted: {snapshot.not_accepted} POSTs never got a 202")
    reasons = Counter(failure_reason(snapshot.orders[i], snapshot.failed_orders.get(i)) for i in failed)
    kill_failures = reasons.get("Runtime.ExitError", 0)
    n = len(accepted)
    share = len(failed) / n if n else 0.0
    predicted = prediction.share + (kill_failures / n if n else 0.0)
    tolerance = max(0.02, 3 * math.sqrt(predicted * (1 - predicted) / n)) if n else 0.02
    if n and abs(share - predicted) > tolerance:
        violations.append(f"FAILED share {share:.2%} is {abs(share - predicted):.2%} away from the predicted "
                          f"{predicted:.2%} (tolerance {tolerance:.2%})")
    return Report(accepted=n, fulfilled=len(fulfilled), failed=len(failed), failed_by_reason=dict(reasons.most_common()),
                  lost=lost, stuck=stuck, duplicates=duplicates, charged_cents=charged, refunded_cents=refunded,
                  fulfilled_cents=fulfilled_cents, money_net_cents=net, stock_taken=dict(sorted(taken.items())),
                  stock_released=dict(sorted(released.items())), stock_fulfilled=dict(sorted(shipped.items())),
                  stock_drop=dict(sorted(drop.items())), server_errors=server_errors, failed_share=share,
                  predicted_share=predicted, kill_failures=kill_failures, tolerance=tolerance, violations=violations)


def table(report: Report, prediction: Prediction, snapshot: Snapshot, config: ChaosConfig, seconds: float) -> str:
    units = lambda counter: sum(counter.values())  # noqa: E731
    rows = [
        ("orders POSTed / accepted (202)", f"{config.orders} / {report.accepted}"),
        ("FULFILLED", f"{report.fulfilled}"),
        ("FAILED", f"{report.failed} ({report.failed_share:.2%})"),
        *[(f"  {reason}", f"{count}") for reason, count in report.failed_by_reason.items()],
        ("stuck (not terminal after the drain)", f"{len(report.stuck)}"),
        ("lost (accepted, no row)", f"{len(report.lost)}"),
        ("duplicate orders (extra executions)", f"{len(report.duplicates)}"),
        ("money: charged - refunded - fulfilled", f"{report.charged_cents} - {report.refunded_cents} - "
                                                  f"{report.fulfilled_cents} = {report.money_net_cents} cents"),
        ("stock: taken - released - fulfilled", f"{units(report.stock_taken)} - {units(report.stock_released)} - "
                                                f"{units(report.stock_fulfilled)} = "
                                                f"{units(report.stock_taken) - units(report.stock_released) - units(report.stock_fulfilled)} units"),
        ("stock: inventory table fell by", f"{units(report.stock_drop)} units (fulfilled: "
                                           f"{units(report.stock_fulfilled)})"),
        ("HTTP answers (retries included)", ", ".join(f"{s}: {c}" for s, c in sorted(snapshot.http.items()))),
        ("5xx", f"{report.server_errors}"),
        ("predicted FAILED share", f"{report.predicted_share:.2%} = workflow {prediction.p_workflow:.2%} + "
                                   f"(1 - that) x DLQ {prediction.p_dlq:.2%} + killed {report.kill_failures}"),
        ("observed - predicted", f"{report.failed_share - report.predicted_share:+.2%} "
                                 f"(tolerance {report.tolerance:.2%})"),
        ("worker kills (SIGKILL)", ", ".join(f"{k}: {v}" for k, v in sorted(snapshot.kills.items())) or "none"),
        ("faults injected", "; ".join(f"{kind} {sum(v.values())}" for kind, v in sorted(snapshot.injected.items()))
         or "none"),
        ("run", f"{seconds:.0f} s, concurrency {config.concurrency}"
                + (f", paced at {config.rate:g} orders/s" if config.rate > 0 else "")
                + f", TIME_SCALE {config.time_scale}"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append("RESULT: " + ("every invariant holds" if report.ok else "BROKEN"))
    lines.extend(f"  - {violation}" for violation in report.violations[:50])
    if len(report.violations) > 50:
        lines.append(f"  ... and {len(report.violations) - 50} more")
    return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------------------------------------


def sample_data(path: Path) -> dict[str, int]:
    """The sample customers and inventory, every SKU's stock raised to STOCK, and nothing else (the sample file's
    order, payment and batch would count as money and stock no accepted order explains); returns the initial
    stock."""
    sample = json.loads((REPO_ROOT / "data" / "sample_data.json").read_text())
    data = {"customers": sample["customers"], "inventory": sample["inventory"]}
    for item in data["inventory"]:
        if item["sku"] in SKUS:
            item["stock"] = STOCK
    path.write_text(json.dumps(data))
    return {item["sku"]: int(item["stock"]) for item in data["inventory"]}


def order_body(rng: random.Random) -> dict:
    """1 or 2 lines of 1 or 2 units: at most 83,996 cents, below the approval threshold (100,000)."""
    skus = rng.sample(sorted(SKUS), rng.choice((1, 2)))
    return {"customerId": rng.choice(CUSTOMERS), "items": [{"sku": s, "quantity": rng.choice((1, 2))} for s in skus]}


def worker_pids(root_pid: int, include_api: bool) -> dict[int, str]:
    """Lambda worker processes under ``root_pid``: {pid: function directory} (a worker's cwd is its CodeUri)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = {}, [root_pid]
    while todo:
        parent = todo.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                todo.append(pid)
                try:
                    cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
                except OSError:
                    continue
                if cwd.parent == REPO_ROOT / "functions" and (include_api or cwd.name != "api_handler"):
                    found[pid] = cwd.name
    return found


class Killer(threading.Thread):
    def __init__(self, root_pid: int, every: float, include_api: bool, rng: random.Random) -> None:
        super().__init__(name="chaos-killer", daemon=True)
        self.root_pid, self.every, self.include_api, self.rng = root_pid, every, include_api, rng
        self.stop = threading.Event()
        self.kills: Counter = Counter()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            workers = worker_pids(self.root_pid, self.include_api)
            if not workers:
                continue
            pid = self.rng.choice(sorted(workers))
            try:
                os.kill(pid, signal.SIGKILL)
                self.kills[workers[pid]] += 1
            except ProcessLookupError:
                pass


def _scan(table) -> list[dict]:
    items, kwargs = [], {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _executions(client, machine: str, status: str | None = None) -> list[str]:
    names, kwargs = [], {"stateMachineArn": machine, "maxResults": 1000}
    if status:
        kwargs["statusFilter"] = status
    while True:
        page = client.list_executions(**kwargs)
        names += [e["name"] for e in page["executions"]]
        if not page.get("nextToken"):
            return names
        kwargs["nextToken"] = page["nextToken"]


def _statuses(client, table: str, order_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(order_ids), 100):
        request: dict | None = {table: {"Keys": [{"order_id": {"S": i}} for i in order_ids[start:start + 100]],
                                        "ProjectionExpression": "order_id, #s",
                                        "ExpressionAttributeNames": {"#s": "status"}, "ConsistentRead": True}}
        while request:
            page = client.batch_get_item(RequestItems=request)
            for item in page["Responses"].get(table, []):
                found[item["order_id"]["S"]] = item.get("status", {}).get("S")
            request = page.get("UnprocessedKeys") or None
    return found


def _queue_depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(value) for value in attributes.values())


def injected_faults(log_text: str) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {}
    for line in log_text.splitlines():
        if line.startswith("[fault] "):
            words = line.split()
            kind = words[1]
            target = words[-1] if kind == "duplicate" else words[4]
            counts.setdefault(kind, Counter())[target.rsplit(":", 1)[-1].split("-", 1)[-1]] += 1
    return {kind: dict(counter) for kind, counter in counts.items()}


def run(config: ChaosConfig, log=print) -> tuple[Report, Prediction, Snapshot, float]:
    import requests

    from tests.support.local_stack import LocalStack

    rng = random.Random(config.seed)
    prediction = predict(config)
    workdir = tempfile.TemporaryDirectory(prefix="dofs-chaos-")
    data_path = Path(workdir.name) / "sample_data.json"
    initial_stock = sample_data(data_path)
    env = {"SAMPLE_DATA": str(data_path), "FAULTS": config.faults, "WATCH": "0"}
    if config.faults_seed is not None:
        env["FAULTS_SEED"] = str(config.faults_seed)
    started = time.monotonic()
    stack = LocalStack({"MaxReceiveCount": str(config.max_receive_count)}, time_scale=config.time_scale,
                       extra_env=env)
    log(f"chaos: stack ready ({stack.api_server}); {config.orders} orders at concurrency {config.concurrency}"
        + (f" paced at {config.rate:g}/s" if config.rate > 0 else "") + ", "
        f"TIME_SCALE {config.time_scale}, FAULTS={config.faults}, a worker killed every {config.kill_every:g} s")
    killer = None
    try:
        api = stack.api()
        run_id = uuid.uuid4().hex[:8]
        bodies = [order_body(rng) for _ in range(config.orders)]
        http: Counter = Counter()
        http_lock = threading.Lock()
        local = threading.local()
        accepted: dict[int, str] = {}

        posting_started = time.monotonic()

        def post(index: int) -> None:
            if config.rate > 0:
                delay = posting_started + index / config.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if not hasattr(local, "session"):
                local.session = requests.Session()
            headers = {"Idempotency-Key": f"chaos-{run_id}-{index:06d}"}
            pause = 0.1
            for _ in range(30):
                try:
                    response = api.post("orders", bodies[index], headers=headers, session=local.session)
                    status = response.status_code
                except requests.RequestException:
                    status = 0  # no answer: the connection failed
                with http_lock:
                    http[status] += 1
                if status == 202:
                    accepted[index] = response.json()["orderId"]
                    return
                if status not in (0, 409, 429) and status < 500:
                    return  # a 4xx other than in-progress / throttled: not retried
                time.sleep(pause * rng.uniform(0.5, 1.0))
                pause = min(pause * 2, 5.0)

        if config.kill_every > 0:
            killer = Killer(stack.process.pid, config.kill_every, config.kill_api, random.Random(rng.random()))
            killer.start()
        done = 0
        with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
            for _ in pool.map(post, range(config.orders)):
                done += 1
                if done % max(1, config.orders // 10) == 0:
                    log(f"  {done} POSTs answered ({time.monotonic() - started:.0f} s)")

        ids = sorted(set(accepted.values()))
        ddb, sqs, sfn = stack.client("dynamodb"), stack.client("sqs"), stack.client("stepfunctions")
        orders_table = stack.outputs["OrdersTableName"]
        machine = stack.outputs["OrderStateMachineArn"]
        queues = [stack.outputs["FulfillmentQueueUrl"], stack.outputs["FulfillmentDlqUrl"]]
        pending, last_change, last_state = list(ids), time.monotonic(), None
        drain_started = time.monotonic()
        while True:
            statuses = _statuses(ddb, orders_table, pending)
            pending = [i for i in pending if statuses.get(i) not in TERMINAL]
            running = len(_executions(sfn, machine, "RUNNING"))
            depth = sum(_queue_depth(sqs, url) for url in queues)
            state = (len(pending), running, depth)
            if state != last_state:
                last_state, last_change = state, time.monotonic()
                log(f"  drain: {len(pending)} orders not terminal, {running} executions running, {depth} messages "
                    f"queued ({time.monotonic() - started:.0f} s)")
            if state == (0, 0, 0):
                break
            if time.monotonic() - last_change > config.stall_seconds or \
                    time.monotonic() - drain_started > config.drain_seconds:
                log("  drain: deadline reached")
                break
            time.sleep(2.0)
        if killer is not None:
            killer.stop.set()
            killer.join()
        time.sleep(1.0)  # let the last in-flight writes settle before reading
        orders = {row["order_id"]: row for row in _scan(stack.table("OrdersTableName"))}
        snapshot = Snapshot(
            accepted=ids, orders=orders,
            payments={row["order_id"]: row for row in _scan(stack.table("PaymentsTableName"))},
            failed_orders={row["order_id"]: row for row in _scan(stack.table("FailedOrdersTableName"))},
            initial_stock=initial_stock,
            stock={row["sku"]: _int(row["stock"]) for row in _scan(stack.table("InventoryTableName"))},
            executions=_executions(sfn, machine), http=dict(http),
            not_accepted=config.orders - len(accepted), kills=dict(killer.kills) if killer else {},
        )
    finally:
        if killer is not None:
            killer.stop.set()
        stack.stop()
        snapshot_log = stack.log_path.read_text(errors="replace") if stack.log_path.exists() else ""
        stack.cleanup()
        workdir.cleanup()
    snapshot.injected = injected_faults(snapshot_log)
    seconds = time.monotonic() - started
    return reconcile(snapshot, prediction, config), prediction, snapshot, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", "-n", type=int, default=ChaosConfig.orders)
    parser.add_argument("--concurrency", "-c", type=int, default=ChaosConfig.concurrency)
    parser.add_argument("--time-scale", type=float, default=ChaosConfig.time_scale)
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="FAULTS of the stack (local_runtime/awslambda/faults.py)")
    parser.add_argument("--faults-seed", type=int)
    parser.add_argument("--kill-every", type=float, default=ChaosConfig.kill_every,
                        help="seconds between two SIGKILLs of a random Lambda worker (0: none)")
    parser.add_argument("--kill-api", action="store_true", help="also kill the API function's workers")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="orders per second the clients keep to (0: each client POSTs as soon as answered)")
    parser.add_argument("--stall-seconds", type=float, default=ChaosConfig.stall_seconds)
    parser.add_argument("--drain-seconds", type=float, default=ChaosConfig.drain_seconds)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / ".bench" / "chaos.json")
    args = parser.parse_args(argv)
    config = ChaosConfig(orders=args.orders, concurrency=args.concurrency, time_scale=args.time_scale,
                         faults=args.faults, faults_seed=args.faults_seed, kill_every=args.kill_every,
                         kill_api=args.kill_api, rate=args.rate, stall_seconds=args.stall_seconds,
                         drain_seconds=args.drain_seconds, seed=args.seed)
    report, prediction, snapshot, seconds = run(config, log=lambda line: print(line, flush=True))
    print()
    print(table(report, prediction, snapshot, config, seconds))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"config": asdict(config), "prediction": asdict(prediction),
                                     "report": asdict(report), "http": snapshot.http, "kills": snapshot.kills,
                                     "injected": snapshot.injected, "seconds": seconds,
                                     "load_average": os.getloadavg()}, indent=2, default=str))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
