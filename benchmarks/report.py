"""The printed table and the JSON record of a bench run."""
from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from .engine_bench import MachineResult
from .stack_bench import StackResult

GOAL_CHAIN_TRANSITIONS = 20_000
GOAL_ORDER_RATIO = 20.0
GOAL_ORDERS_PER_S = 100.0
GOAL_P99_MS = 1000.0


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 1048576:.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def engine_table(results: list[MachineResult]) -> str:
    head = (f"{'machine':<40} {'engine':<6} {'execs':>6} {'secs':>6} {'exec/s':>10} {'transitions/s':>14} "
            f"{'trans/exec':>10} {'peak MiB':>9} {'ours/moto':>10} {'same out':>8}")
    lines = [head, "-" * len(head)]
    for m in results:
        for label in ("ours", "moto"):
            run = m.runs.get(label)
            if run is None:
                continue
            ratio = _num(m.ratio(), 1) + "x" if label == "ours" and m.ratio() is not None else ""
            same = ("yes" if m.same_output else "NO") if label == "ours" and m.same_output is not None else ""
            lines.append(f"{m.title if label == 'ours' else '':<40} {label:<6} {run.executions:>6} "
                         f"{run.seconds:>6.2f} {run.executions_per_s:>10,.1f} {run.transitions_per_s:>14,.0f} "
                         f"{run.transitions_per_execution:>10} {_mib(run.peak_memory_bytes):>9} {ratio:>10} "
                         f"{same:>8}")
        if m.single_thread is not None:
            st = m.single_thread
            lines.append(f"{'':<40} {'ours*':<6} {st.executions:>6} {st.seconds:>6.2f} {st.executions_per_s:>10,.1f} "
                         f"{st.transitions_per_s:>14,.0f} {st.transitions_per_execution:>10}")
    return "\n".join(lines)


def differences(results: list[MachineResult]) -> list[str]:
    return [f"{m.key}: outputs differ (ours vs moto) at {m.difference}" for m in results if m.difference]


def goals(results: list[MachineResult], stack: StackResult | None) -> list[str]:
    out = []
    by_key = {m.key: m for m in results}
    chain = by_key.get("pass_chain")
    if chain is not None and chain.single_thread is not None:
        rate = chain.single_thread.transitions_per_s
        out.append(f"Pass chain, one thread: {rate:,.0f} transitions/s (goal > {GOAL_CHAIN_TRANSITIONS:,}): "
                   f"{'met' if rate > GOAL_CHAIN_TRANSITIONS else 'MISSED'}")
    order = by_key.get("order")
    if order is not None and order.ratio() is not None:
        ratio = order.ratio()
        out.append(f"order-like machine, ours/moto executions/s: {ratio:.1f}x (goal >= {GOAL_ORDER_RATIO:.0f}x): "
                   f"{'met' if ratio >= GOAL_ORDER_RATIO else 'MISSED'}")
    if stack is not None:
        ok_rate = stack.orders_per_s >= GOAL_ORDERS_PER_S
        ok_p99 = stack.latency_p99_ms < GOAL_P99_MS
        out.append(f"local stack: {stack.orders_per_s:.1f} orders/s (goal >= {GOAL_ORDERS_PER_S:.0f}): "
                   f"{'met' if ok_rate else 'MISSED'}; p99 {stack.latency_p99_ms:,.0f} ms (goal < "
                   f"{GOAL_P99_MS:,.0f}): {'met' if ok_p99 else 'MISSED'}")
        if stack.ceiling_orders_per_s == stack.ceiling_orders_per_s:  # not NaN: the floor was measured
            reachable = stack.ceiling_orders_per_s >= GOAL_ORDERS_PER_S
            out.append(f"local stack ceiling at the architecture's floor: {stack.ceiling_orders_per_s:.0f} orders/s "
                       f"on {stack.cpus} CPUs: the goal of {GOAL_ORDERS_PER_S:.0f} is "
                       f"{'within reach' if reachable else 'out of reach even if nothing else cost CPU'}")
    return out


def stack_table(s: StackResult) -> str:
    rows = [
        ("orders (accepted / terminal / FULFILLED)", f"{s.orders} ({s.accepted} / {s.terminal} / {s.fulfilled})"),
        ("client threads, TIME_SCALE", f"{s.clients}, {s.time_scale}"),
        ("orders/s, POST to terminal row", f"{s.orders_per_s:.1f}  ({s.terminal} in {s.seconds:.2f} s)"),
        ("latency p50 / p99 / max (ms)", f"{s.latency_p50_ms:,.0f} / {s.latency_p99_ms:,.0f} / {s.latency_max_ms:,.0f}"),
        ("POST answered/s, POST p50 / p99 (ms)", f"{s.post_per_s:.1f}, {s.post_p50_ms:,.0f} / {s.post_p99_ms:,.0f}"),
        ("CPU s: runtime process / Lambda workers", f"{s.runtime_cpu_s:.1f} / {s.workers_cpu_s:.1f}  "
                                                     f"({1000 * s.runtime_cpu_s / max(1, s.terminal):.0f} / "
                                                     f"{1000 * s.workers_cpu_s / max(1, s.terminal):.0f} ms per order)"),
        ("runtime process RSS MiB, before / after", f"{s.runtime_rss_mib:.0f} / {s.runtime_rss_after_mib:.0f}"),
        ("runtime RSS growth per 1,000 orders (MiB)", _num(s.rss_per_1000_orders_mib)),
        ("runtime threads at peak, task calls queued at peak", f"{s.runtime_threads_peak}, "
                                                               f"{s.queued_task_calls_peak}"),
        ("POSTs answered 429 (runtime saturated)", f"{s.throttled_posts}"),
        ("stack start-up (s), warm-up orders", f"{s.startup_s:.1f}, {s.warmup_orders}"),
        ("per order: Lambda requests / runtime requests / invocations",
         f"{s.lambda_requests_per_order:.1f} / {s.runtime_requests_per_order:.1f} / {s.invocations_per_order:.1f}"),
    ]
    if s.unit_costs:
        c = s.unit_costs
        rows.append(("floor: ms CPU per request (client + endpoint)",
                     f"{c['request_client_ms']:.2f} + {c['request_server_ms']:.2f}"))
        rows.append(("floor: ms CPU per empty invocation (runtime + worker)",
                     f"{c['invoke_runtime_ms']:.2f} + {c['invoke_worker_ms']:.2f}"))
        rows.append(("floor per order (ms CPU), ceiling orders/s",
                     f"{s.floor_ms_per_order:.1f}, {s.ceiling_orders_per_s:.0f} on {s.cpus} CPUs  "
                     f"(measured: {1000 * (s.runtime_cpu_s + s.workers_cpu_s) / max(1, s.terminal):.0f} ms)"))
    if s.endpoint_cpu_ms_per_order:
        served = s.endpoint_cpu_ms_per_order
        runtime_ms = 1000 * s.runtime_cpu_s / max(1, s.terminal)
        others = sum(ms for caller, ms in served.items() if caller not in ("lambda", "runtime"))
        rows.append(("runtime ms CPU per order: serving Lambda / own / other requests, rest",
                     f"{served.get('lambda', 0.0):.1f} / {served.get('runtime', 0.0):.1f} / {others:.1f}, "
                     f"{runtime_ms - sum(served.values()):.1f}  (other: the bench's reads, local routes; rest: engine, "
                     f"pollers, Runtime API, API, server hand-offs)"))
        by_operation = s.endpoint_cpu_by_operation or {}
        top = [(name, v) for name, v in by_operation.items() if name.startswith("lambda ")][:6]
        if top:
            rows.append(("Lambda requests served: ms per request (per order)",
                         ", ".join(f"{name.split('.', 1)[-1]} {v[1]:.2f} ({v[0]:.1f})" for name, v in top)))
        if s.thread_cpu_ms_per_order:
            rows.append(("runtime threads: ms CPU per order (largest)",
                         ", ".join(f"{group} {ms:.1f}" for group, ms in list(s.thread_cpu_ms_per_order.items())[:7])))
        alone = (s.unit_costs or {}).get("request_served_ms")
        if alone == alone and alone is not None:  # measured (not NaN)
            rows.append(("floor's GetItem served alone: ms per request", f"{alone:.2f}"))
    for point in s.soak or ():
        rows.append((f"soak: after {point[0]:,} orders: RSS MiB, threads, executions kept",
                     f"{point[1]:.0f}, {point[2]}, {point[3]}"))
    if s.paced_orders:
        rows.append((f"paced {s.paced_rate:g} orders/s: terminal, p50 / p99 / max (ms)",
                     f"{s.paced_terminal}/{s.paced_orders}, {s.paced_p50_ms:,.0f} / {s.paced_p99_ms:,.0f} / "
                     f"{s.paced_max_ms:,.0f}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def notes() -> list[str]:
    return [
        "Both engines run in this process, driven below HTTP and botocore (our StepFunctionsService.handle, moto's "
        "Step Functions backend under mock_aws); one execution at a time, ours on the engine's scheduler thread (a "
        "greenlet per execution), moto's in a thread of its own.",
        "order-like: Pass states stand in for the tasks on both engines (no mocked service work on either side).",
        "transitions = states entered (StateEntered history events, inside Parallel branches and Map iterations too).",
        "peak MiB = tracemalloc peak above the starting level during a separate pass of a few executions "
        "(executions retained, as both engines keep them); not RSS.",
        "ours* = our engine with the execution run in the calling thread (Engine.run_sync): one core, one thread.",
        "The machine's cores are shared: other processes running at the same time lower every rate.",
        "floor (benchmarks/floor.py): per order, the Lambda workers' requests x the CPU of one boto3 GetItem (client "
        "and endpoint) + the invocations x the CPU of an empty handler's invocation (runtime and worker); all else "
        "counted free, so CPUs / floor bounds the stack's orders/s from above.",
    ]


def write_json(path: Path, results: list[MachineResult], stack: StackResult | None, extra: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "engine": [m.as_dict() for m in results],
        "stack": stack.as_dict() if stack is not None else None,
        "goals": goals(results, stack),
        **extra,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
