"""The whole local stack end to end: POST /orders until the order's row in the orders table is terminal.

The stack is started the way users start it (``python -m local_runtime serve``, via tests/support/local_stack.py)
with FulfillmentSuccessRate=1 and a small TIME_SCALE. The path of one order: API emulator -> ApiFunction (a Lambda
worker process) -> StartExecution -> ValidateOrder and StoreOrder (Lambda workers) -> SQS sendMessage -> the SQS
poller -> FulfillOrderFunction -> the orders row becomes FULFILLED.

Measured: a warm-up batch (untimed: first invocations start the workers), then ``orders`` POSTs from ``clients``
client threads (each POST as soon as the previous answered). One watcher thread reads the orders table directly
(BatchGetItem on the accepted, not yet terminal order ids) and stamps the time it first sees FULFILLED or FAILED.
It polls every ``poll_interval`` s (20 ms), or every ``poll_per_pending`` s (1 ms) per order still pending when
that is longer: its reads cost the runtime about 0.05 to 0.1 ms of CPU per id (moto's BatchGetItem), so a fixed
20 ms over a backlog of 400 ids would bill the runtime for a poller busier than the stack it measures. Latency =
that time - the POST's start (resolution: the interval at that moment, e.g. 20 ms with up to 20 orders pending,
400 ms with 400, plus one BatchGetItem round). Throughput = orders / (last terminal seen - first POST).

Load of the runtime process, sampled every 0.25 s from the measured batch to the end of the paced phase: resident
memory and threads (/proc), task calls waiting to start (``/_local/stats`` ``load.queuedTaskCalls``, what the API
throttles on). RSS per 1,000 orders = (RSS after the paced phase - RSS after the warm-up) / orders terminal in
between x 1,000. An optional soak (``soak_orders``) then posts orders in rounds (a 429 is retried after 0.2 s, as
an SDK would) and records RSS and threads after each round: what stays after thousands of orders.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

TERMINAL = {"FULFILLED", "FAILED"}


@dataclass
class StackResult:
    orders: int
    clients: int
    time_scale: float
    accepted: int
    terminal: int
    fulfilled: int
    failed: int
    seconds: float
    orders_per_s: float
    post_per_s: float
    post_p50_ms: float
    post_p99_ms: float
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    startup_s: float
    poll_interval_s: float
    warmup_orders: int
    cpus: int
    runtime_cpu_s: float = 0.0  # CPU seconds of the runtime process (moto + engine + API + pollers) during the batch
    workers_cpu_s: float = 0.0  # CPU seconds of its child processes (Lambda workers) during the batch
    runtime_rss_mib: float = 0.0  # resident memory of the runtime process before and after the batch (/proc)
    runtime_rss_after_mib: float = 0.0
    # paced phase: orders POSTed at a fixed rate (open loop), below what the stack sustains
    paced_rate: float = 0.0
    paced_orders: int = 0
    paced_terminal: int = 0
    paced_p50_ms: float = float("nan")
    paced_p99_ms: float = float("nan")
    paced_max_ms: float = float("nan")
    # per order during the burst, from the stack's /_local/stats: requests from Lambda workers, the runtime's own
    # requests (engine tasks, pollers, targets) and Lambda invocations
    lambda_requests_per_order: float = 0.0
    runtime_requests_per_order: float = 0.0
    invocations_per_order: float = 0.0
    # CPU of the runtime process's serving threads per order, by caller (``lambda``: the workers' requests,
    # ``runtime``: its own in-process requests, ``endpoint``: local routes), and by "caller operation":
    # [ms per order, ms per request] (/_local/stats ``cpuMs``, gateway/stats.py CpuMeter)
    endpoint_cpu_ms_per_order: dict | None = None
    endpoint_cpu_by_operation: dict | None = None
    # CPU of the runtime process's threads per order, by thread group (/_local/stats ``threadCpuMs``: live threads,
    # plus the scheduler and per-connection threads that counted themselves as they ended; any other thread that
    # ended during the burst, such as an asynchronous invocation's lambda-event thread, is missing)
    thread_cpu_ms_per_order: dict | None = None
    # runtime load during the burst and the paced phase (Sampler): peaks, and RSS growth per 1,000 orders
    runtime_threads_peak: int = 0
    queued_task_calls_peak: int = 0
    throttled_posts: int = 0  # POSTs answered 429 (the runtime saturated) in the burst
    rss_per_1000_orders_mib: float = float("nan")
    # soak: [orders terminal so far, RSS MiB, threads, executions kept] after each round
    soak: list | None = None
    # the architecture's floor (benchmarks/floor.py): unit costs measured after the stack stopped
    unit_costs: dict | None = None
    floor_ms_per_order: float = float("nan")
    ceiling_orders_per_s: float = float("nan")

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _proc_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds (Linux /proc); 0 when unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mib(pid: int) -> float:
    """Resident memory of one process in MiB (VmRSS from /proc); 0 when unreadable."""
    return proc_status(pid, "VmRSS") / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_snapshot(pid: int) -> tuple[float, dict[int, float]]:
    """(CPU s of the process, {descendant pid: CPU s}): workers that exit during a batch are not counted."""
    return _proc_cpu(pid), {child: _proc_cpu(child) for child in _descendants(pid)}


def proc_status(pid: int, field: str) -> int:
    """An integer field of /proc/<pid>/status (``VmRSS`` in kB, ``Threads``); 0 when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


class Sampler(threading.Thread):
    """Peaks of the runtime process's threads and of its queued task calls, every ``interval`` s."""

    def __init__(self, pid: int, endpoint: str, interval: float = 0.25) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        self.pid, self.endpoint, self.interval = pid, endpoint, interval
        self.threads_peak = 0
        self.queued_peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import requests

        session = requests.Session()
        while not self.stop.is_set():
            self.threads_peak = max(self.threads_peak, proc_status(self.pid, "Threads"))
            try:
                load = session.get(f"{self.endpoint}/_local/stats?include=load", timeout=5).json().get("load") or {}
                self.queued_peak = max(self.queued_peak, int(load.get("queuedTaskCalls", 0)))
            except (OSError, ValueError):
                pass
            self.stop.wait(self.interval)


def _stats(endpoint: str) -> dict:
    import requests

    return requests.get(f"{endpoint}/_local/stats", timeout=10).json()


def _per_order(before: dict, after: dict, orders: int) -> tuple[float, float, float]:
    """(Lambda requests, runtime requests, invocations) per order between two /_local/stats answers."""
    def total(stats: dict, caller: str) -> int:
        return sum(stats["requests"].get(caller, {}).values())

    def invocations(stats: dict) -> int:
        return sum(stats["invocations"].values())

    n = max(1, orders)
    return ((total(after, "lambda") - total(before, "lambda")) / n,
            (total(after, "runtime") - total(before, "runtime")) / n,
            (invocations(after) - invocations(before)) / n)


def _served_cpu(before: dict, after: dict, orders: int) -> tuple[dict, dict]:
    """({caller: ms per order}, {"caller operation": [ms per order, ms per request]}) of the endpoint's serving
    threads between two /_local/stats answers."""
    n = max(1, orders)
    by_caller: dict[str, float] = {}
    by_operation: dict[str, list[float]] = {}
    for caller, operations in after.get("cpuMs", {}).items():
        for operation, ms in operations.items():
            spent = ms - before.get("cpuMs", {}).get(caller, {}).get(operation, 0.0)
            if spent <= 0:
                continue
            count = (after["requests"].get(caller, {}).get(operation, 0)
                     - before["requests"].get(caller, {}).get(operation, 0))
            by_caller[caller] = by_caller.get(caller, 0.0) + spent / n
            by_operation[f"{caller} {operation}"] = [round(spent / n, 3), round(spent / count, 3) if count else 0.0]
    return ({caller: round(ms, 3) for caller, ms in sorted(by_caller.items())},
            dict(sorted(by_operation.items(), key=lambda item: -item[1][0])))


def _thread_cpu(before: dict, after: dict, orders: int) -> dict:
    """{thread group: ms per order} between two /_local/stats answers, largest first (groups that lost a thread
    during the burst can come out low; none is reported below zero)."""
    n = max(1, orders)
    spent = {group: max(0.0, ms - before.get("threadCpuMs", {}).get(group, 0.0)) / n
             for group, ms in after.get("threadCpuMs", {}).items()}
    return {group: round(ms, 3) for group, ms in sorted(spent.items(), key=lambda item: -item[1]) if ms > 0}


def order_body(order_id: str) -> dict:
    return {"orderId": order_id, "customerId": "CUST-001", "items": [{"sku": "SKU-001", "quantity": 1}]}


class Watcher(threading.Thread):
    """Reads the orders table for accepted orders until each is terminal; records when it was first seen so."""

    def __init__(self, client, table: str, poll_interval: float, poll_per_pending: float = 0.001) -> None:
        super().__init__(daemon=True, name="bench-watcher")
        self.client = client
        self.table = table
        self.poll_interval = poll_interval
        self.poll_per_pending = poll_per_pending
        self.pending: set[str] = set()
        self.done_at: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def add(self, order_id: str) -> None:
        with self.lock:
            self.pending.add(order_id)

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                ids = sorted(self.pending)
            for start in range(0, len(ids), 100):
                chunk = ids[start:start + 100]
                response = self.client.batch_get_item(RequestItems={self.table: {
                    "Keys": [{"order_id": {"S": i}} for i in chunk], "ProjectionExpression": "order_id, #s",
                    "ExpressionAttributeNames": {"#s": "status"}, "ConsistentRead": True}})
                now = time.perf_counter()
                for item in response["Responses"].get(self.table, []):
                    status = item.get("status", {}).get("S")
                    if status in TERMINAL:
                        order_id = item["order_id"]["S"]
                        with self.lock:
                            if order_id in self.pending:
                                self.pending.discard(order_id)
                                self.done_at[order_id] = now
                                self.status[order_id] = status
            with self.lock:
                pending = len(self.pending)
            self.stop.wait(max(self.poll_interval, self.poll_per_pending * pending))


def run_paced(post, watcher: Watcher, wait_all, rate: float, seconds: float, clients: int,
              timeout: float) -> tuple[int, list[float]]:
    """POST ``rate`` orders per second for ``seconds`` (each at its scheduled time, whether or not earlier ones have
    answered), then wait until they are terminal. ``post`` registers accepted orders with ``watcher``.
    Returns (orders posted, latencies in ms of the terminal ones)."""
    count = max(1, round(rate * seconds))
    ids = [f"P-{uuid.uuid4().hex[:16]}" for _ in range(count)]
    watcher.start()
    start = time.perf_counter() + 0.1

    def scheduled(index: int) -> tuple[str, float, float, int]:
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return post(ids[index])

    with ThreadPoolExecutor(max_workers=clients) as pool:
        posts = list(pool.map(scheduled, range(count)))
    wait_all(watcher, time.perf_counter() + timeout)
    watcher.stop.set()
    watcher.join()
    latencies = [(watcher.done_at[p[0]] - p[1]) * 1000 for p in posts if p[0] in watcher.done_at]
    return count, latencies


def run_soak(post_retrying, watcher_factory, wait_all, pid: int, endpoint: str, total: int, round_size: int,
             clients: int, timeout: float, log=print) -> list:
    """Post ``total`` orders in rounds of ``round_size``; after each round (every order terminal) record
    [orders so far, RSS MiB, threads, executions kept]."""
    points, done = [], 0
    while done < total:
        count = min(round_size, total - done)
        watcher = watcher_factory()
        watcher.start()
        ids = [f"S-{uuid.uuid4().hex[:16]}" for _ in range(count)]
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for order_id, status in pool.map(post_retrying, ids):
                if status == 202:
                    watcher.add(order_id)
        wait_all(watcher, time.perf_counter() + timeout)
        watcher.stop.set()
        watcher.join()
        done += count
        load = _stats(endpoint).get("load") or {}
        point = [done, round(rss_mib(pid), 1), proc_status(pid, "Threads"), load.get("keptExecutions")]
        points.append(point)
        log(f"  soak: {point[0]} orders, RSS {point[1]:.0f} MiB, {point[2]} threads, {point[3]} executions kept")
    return points


def run_stack_bench(orders: int = 200, clients: int = 16, time_scale: float = 0.001, warmup: int = 20,
                    poll_interval: float = 0.02, timeout: float = 60.0, paced_rate: float = 8.0,
                    paced_seconds: float = 10.0, floor: bool = True, soak_orders: int = 0, soak_round: int = 500,
                    log=print) -> StackResult:
    import requests

    from tests.support.local_stack import LocalStack

    started = time.perf_counter()
    stack = LocalStack({"FulfillmentSuccessRate": "1"}, time_scale=time_scale)
    startup = time.perf_counter() - started
    log(f"  stack ready in {startup:.1f} s ({stack.endpoint}, API {stack.api_server})")
    try:
        api = stack.api()
        table = stack.outputs["OrdersTableName"]
        ddb = stack.client("dynamodb")
        local = threading.local()

        def session() -> requests.Session:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return local.session

        def post(order_id: str) -> tuple[str, float, float, int]:
            t0 = time.perf_counter()
            response = api.post("orders", order_body(order_id), session=session())
            t1 = time.perf_counter()
            if response.status_code == 202:
                watcher.add(order_id)
            return order_id, t0, t1, response.status_code

        def batch(ids: list[str]) -> list[tuple[str, float, float, int]]:
            with ThreadPoolExecutor(max_workers=clients) as pool:
                return list(pool.map(post, ids))

        def wait_all(watcher: "Watcher", deadline: float) -> None:
            while time.perf_counter() < deadline:
                with watcher.lock:
                    if not watcher.pending:
                        return
                time.sleep(0.01)

        # warm-up: starts the Lambda workers and fills connection pools; not measured
        watcher = Watcher(ddb, table, poll_interval)
        watcher.start()
        batch([f"W-{uuid.uuid4().hex[:16]}" for _ in range(warmup)])
        wait_all(watcher, time.perf_counter() + timeout)
        watcher.stop.set()
        watcher.join()

        watcher = Watcher(ddb, table, poll_interval)
        watcher.start()
        ids = [f"B-{uuid.uuid4().hex[:16]}" for _ in range(orders)]
        stats_before = _stats(stack.endpoint)
        cpu_before = cpu_snapshot(stack.process.pid)
        rss_before = rss_mib(stack.process.pid)
        sampler = Sampler(stack.process.pid, stack.endpoint)
        sampler.start()
        first = time.perf_counter()
        posts = batch(ids)
        posted = time.perf_counter()
        wait_all(watcher, time.perf_counter() + timeout)
        cpu_after = cpu_snapshot(stack.process.pid)
        watcher.stop.set()
        watcher.join()
        stats_after = _stats(stack.endpoint)
        per_order = _per_order(stats_before, stats_after, len(watcher.done_at))
        served = _served_cpu(stats_before, stats_after, len(watcher.done_at))
        threads = _thread_cpu(stats_before, stats_after, len(watcher.done_at))

        accepted = [p for p in posts if p[3] == 202]
        latencies = [(watcher.done_at[p[0]] - p[1]) * 1000 for p in accepted if p[0] in watcher.done_at]
        post_ms = [(p[2] - p[1]) * 1000 for p in posts]
        last = max(watcher.done_at.values()) if watcher.done_at else time.perf_counter()
        elapsed = last - first
        statuses = list(watcher.status.values())
        result = StackResult(
            orders=orders, clients=clients, time_scale=time_scale, accepted=len(accepted),
            terminal=len(watcher.done_at), fulfilled=statuses.count("FULFILLED"), failed=statuses.count("FAILED"),
            seconds=elapsed, orders_per_s=len(watcher.done_at) / elapsed if elapsed > 0 else 0.0,
            post_per_s=len(posts) / (posted - first), post_p50_ms=percentile(post_ms, 50),
            post_p99_ms=percentile(post_ms, 99), latency_p50_ms=percentile(latencies, 50),
            latency_p99_ms=percentile(latencies, 99), latency_max_ms=max(latencies) if latencies else float("nan"),
            startup_s=startup, poll_interval_s=poll_interval, warmup_orders=warmup, cpus=os.cpu_count() or 0,
            runtime_cpu_s=cpu_after[0] - cpu_before[0],
            workers_cpu_s=sum(v - cpu_before[1].get(k, 0.0) for k, v in cpu_after[1].items()),
            runtime_rss_mib=rss_before, runtime_rss_after_mib=rss_mib(stack.process.pid),
            lambda_requests_per_order=per_order[0], runtime_requests_per_order=per_order[1],
            invocations_per_order=per_order[2], throttled_posts=sum(1 for p in posts if p[3] == 429),
            endpoint_cpu_ms_per_order=served[0], endpoint_cpu_by_operation=served[1],
            thread_cpu_ms_per_order=threads,
        )
        measured = len(watcher.done_at)
        if paced_rate > 0 and paced_seconds > 0:
            watcher = Watcher(ddb, table, poll_interval)  # the one post() registers with from now on
            paced = run_paced(post, watcher, wait_all, paced_rate, paced_seconds, clients, timeout)
            result.paced_rate, result.paced_orders, result.paced_terminal = paced_rate, paced[0], len(paced[1])
            if paced[1]:
                result.paced_p50_ms, result.paced_p99_ms = percentile(paced[1], 50), percentile(paced[1], 99)
                result.paced_max_ms = max(paced[1])
            log(f"  paced: {result.paced_terminal}/{result.paced_orders} orders at {paced_rate:g}/s terminal, "
                f"latency p50 {result.paced_p50_ms:.0f} ms p99 {result.paced_p99_ms:.0f} ms")
            measured += len(paced[1])
        sampler.stop.set()
        sampler.join()
        result.runtime_threads_peak, result.queued_task_calls_peak = sampler.threads_peak, sampler.queued_peak
        result.runtime_rss_after_mib = rss_mib(stack.process.pid)
        if measured:
            result.rss_per_1000_orders_mib = (result.runtime_rss_after_mib - rss_before) / measured * 1000
        log(f"  runtime process: RSS {rss_before:.0f} -> {result.runtime_rss_after_mib:.0f} MiB over {measured} "
            f"orders ({result.rss_per_1000_orders_mib:.1f} MiB per 1,000 orders), threads at peak "
            f"{result.runtime_threads_peak}, task calls queued at peak {result.queued_task_calls_peak}")
        if soak_orders > 0:
            def post_retrying(order_id: str) -> tuple[str, int]:
                while True:
                    response = api.post("orders", order_body(order_id), session=session())
                    if response.status_code != 429:
                        return order_id, response.status_code
                    time.sleep(0.2)

            result.soak = run_soak(post_retrying, lambda: Watcher(ddb, table, poll_interval), wait_all,
                                   stack.process.pid, stack.endpoint, soak_orders, soak_round, clients,
                                   max(timeout, 300.0), log=log)
        log(f"  {result.terminal}/{orders} orders terminal in {elapsed:.2f} s: {result.orders_per_s:.1f} orders/s, "
            f"latency p50 {result.latency_p50_ms:.0f} ms p99 {result.latency_p99_ms:.0f} ms; CPU runtime "
            f"{result.runtime_cpu_s:.1f} s, workers {result.workers_cpu_s:.1f} s")
        if result.accepted < orders:
            codes = sorted({p[3] for p in posts if p[3] != 202})
            log(f"  {orders - result.accepted} POSTs not accepted (HTTP {codes})")
    finally:
        stack.cleanup()
    if floor and result.lambda_requests_per_order > 0:  # nothing counted (no order terminal): no floor to speak of
        from .floor import measure_unit_costs

        costs = measure_unit_costs()
        result.unit_costs = costs.as_dict()
        result.floor_ms_per_order = costs.floor_ms(result.lambda_requests_per_order, result.invocations_per_order)
        result.ceiling_orders_per_s = result.cpus * 1000 / result.floor_ms_per_order
        log(f"  floor: {result.lambda_requests_per_order:.1f} Lambda requests x "
            f"({costs.request_client_ms:.2f} + {costs.request_server_ms:.2f} ms) + "
            f"{result.invocations_per_order:.1f} invocations x ({costs.invoke_runtime_ms:.2f} + "
            f"{costs.invoke_worker_ms:.2f} ms) = {result.floor_ms_per_order:.1f} ms CPU per order: at most "
            f"{result.ceiling_orders_per_s:.0f} orders/s on {result.cpus} CPUs")
    return result
