"""The bench machinery with tiny counts: both engines give the same results on the bench definitions.

Correctness only; no speed is asserted.
"""
import json

import pytest

from benchmarks.definitions import all_machines
from benchmarks.engine_bench import Budget, compare_outputs, run_engine_bench
from benchmarks.report import engine_table, goals, write_json

MACHINES = all_machines(map_count=12)


@pytest.fixture(scope="module")
def outputs():
    return compare_outputs(MACHINES, runs=2)


@pytest.mark.parametrize("machine", MACHINES, ids=[m.key for m in MACHINES])
def test_both_engines_produce_the_same_output(machine, outputs):
    ours, moto = outputs[machine.key]
    assert len(ours) == len(moto) == 2
    assert all(o["status"] == "SUCCEEDED" for o in ours)
    assert ours == moto


def test_the_outputs_are_the_expected_values(outputs):
    order = outputs["order"][0][0]["output"]
    assert order == {"order_id": "ORD-1", "status": "PENDING", "effects": [
        {"message_id": "m-1", "order_id": "ORD-1"}, {"line": "order ORD-1 for CUST-001"}]}
    assert outputs["pass_chain"][0][0]["output"] == {"n": 1, "tag": "chain"}
    assert outputs["map"][0][0]["output"]["results"] == [{"id": i, "done": True} for i in range(12)]
    assert outputs["parallel"][0][0]["output"] == [{"branch": i, "in": 7} for i in range(10)]


def test_bench_run_counts_the_same_transitions_on_both_engines(tmp_path):
    tiny = Budget(seconds=0.0, max_count=2, min_count=2)
    results = run_engine_bench(MACHINES, budgets={"ours": tiny, "moto": tiny}, memory_runs=1, single_thread=tiny,
                               log=lambda line: None)
    expected = {"order": 8, "pass_chain": 200, "map": 13, "parallel": 11}
    assert sorted(m.key for m in results) == sorted(expected)  # the loop below checks every machine
    for m in results:
        assert m.same_output is True, m.key
        assert m.runs["ours"].executions == m.runs["moto"].executions == 2
        assert m.runs["ours"].transitions_per_execution == m.runs["moto"].transitions_per_execution == expected[m.key]
        assert m.runs["ours"].peak_memory_bytes > 0 and m.runs["moto"].peak_memory_bytes > 0
        assert m.single_thread is not None and m.single_thread.executions == 2
    assert "ours" in engine_table(results)
    assert len(goals(results, None)) == 2
    path = tmp_path / "results.json"
    write_json(path, results, None, {})
    assert {m["key"] for m in json.loads(path.read_text())["engine"]} == set(expected)


def test_paced_phase_posts_on_schedule_and_measures_each_order():
    import threading
    import time

    from benchmarks.stack_bench import run_paced

    class FakeWatcher(threading.Thread):  # an order is terminal 5 ms after its POST
        def __init__(self):
            super().__init__(daemon=True)
            self.done_at, self.lock, self.stop, self.pending = {}, threading.Lock(), threading.Event(), set()

        def run(self):
            self.stop.wait()

    watcher = FakeWatcher()
    starts = []

    def post(order_id):
        t0 = time.perf_counter()
        starts.append(t0)
        with watcher.lock:
            watcher.done_at[order_id] = t0 + 0.005
        return order_id, t0, t0, 202

    def wait_all(w, deadline):
        assert w is watcher

    count, latencies = run_paced(post, watcher, wait_all, rate=50, seconds=0.2, clients=4, timeout=5)
    assert count == 10 and len(latencies) == 10
    assert all(abs(latency - 5.0) < 1e-6 for latency in latencies)
    assert max(starts) - min(starts) >= 9 / 50 - 0.01  # the tenth POST waits for its slot: 0.18 s after the first


def test_per_order_counts_come_from_the_difference_of_two_stats_answers():
    from benchmarks.stack_bench import _per_order

    before = {"requests": {"lambda": {"DynamoDB_20120810.GetItem": 10}, "other": {"x": 5}}, "invocations": {"f": 3}}
    after = {"requests": {"lambda": {"DynamoDB_20120810.GetItem": 30, "AmazonSQS.SendMessage": 4},
                          "runtime": {"AmazonSQS.ReceiveMessage": 6}, "other": {"x": 500}},
             "invocations": {"f": 9, "g": 6}}

    assert _per_order(before, after, 4) == (6.0, 1.5, 3.0)  # the "other" caller (the bench's own reads) is left out


def test_served_cpu_per_order_and_per_request_come_from_the_difference_of_two_stats_answers():
    from benchmarks.stack_bench import _served_cpu

    before = {"requests": {"lambda": {"GetItem": 10}}, "cpuMs": {"lambda": {"GetItem": 5.0}}}
    after = {"requests": {"lambda": {"GetItem": 30, "PutItem": 4}, "runtime": {"SendMessage": 4}},
             "cpuMs": {"lambda": {"GetItem": 15.0, "PutItem": 4.0}, "runtime": {"SendMessage": 2.0},
                       "endpoint": {"(no AWS request)": 1.0}}}

    by_caller, by_operation = _served_cpu(before, after, 4)

    assert by_caller == {"endpoint": 0.25, "lambda": 3.5, "runtime": 0.5}
    assert by_operation == {"lambda GetItem": [2.5, 0.5], "lambda PutItem": [1.0, 1.0],
                            "endpoint (no AWS request)": [0.25, 0.0], "runtime SendMessage": [0.5, 0.5]}


def test_floor_is_requests_times_request_cost_plus_invocations_times_invocation_cost():
    from benchmarks.floor import UnitCosts

    costs = UnitCosts(request_client_ms=1.5, request_server_ms=1.5, invoke_runtime_ms=0.25, invoke_worker_ms=0.75)

    assert costs.floor_ms(lambda_requests=14, invocations=6) == 14 * 3.0 + 6 * 1.0


def test_stack_table_splits_the_runtimes_cpu_into_requests_served_and_the_rest():
    from benchmarks.report import stack_table
    from benchmarks.stack_bench import StackResult

    result = StackResult(
        orders=10, clients=1, time_scale=0.001, accepted=10, terminal=10, fulfilled=10, failed=0, seconds=1.0,
        orders_per_s=10.0, post_per_s=10.0, post_p50_ms=1.0, post_p99_ms=1.0, latency_p50_ms=1.0,
        latency_p99_ms=1.0, latency_max_ms=1.0, startup_s=1.0, poll_interval_s=0.02, warmup_orders=0, cpus=2,
        runtime_cpu_s=0.2,  # 20 ms per order
        endpoint_cpu_ms_per_order={"endpoint": 0.5, "lambda": 11.0, "other": 0.5, "runtime": 2.0},
        endpoint_cpu_by_operation={"lambda DynamoDB_20120810.UpdateItem": [3.0, 1.0],
                                   "runtime AmazonSQS.SendMessage": [0.5, 0.5]},
        thread_cpu_ms_per_order={"CP Server Thread": 12.0, "sfn-scheduler": 1.0},
    )

    table = " ".join(stack_table(result).split())  # the columns' padding aside

    assert "serving Lambda / own / other requests, rest 11.0 / 2.0 / 1.0, 6.0 (other:" in table
    assert "Lambda requests served: ms per request (per order) UpdateItem 1.00 (3.0) runtime" in table
    assert "runtime threads: ms CPU per order (largest) CP Server Thread 12.0, sfn-scheduler 1.0" in table
