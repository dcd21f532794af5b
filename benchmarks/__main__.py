"""``python -m benchmarks``: engine comparison with moto, then the whole local stack; table + .bench/results.json."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from .definitions import all_machines
from .engine_bench import Budget, run_engine_bench
from .report import differences, engine_table, goals, notes, stack_table, write_json

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--ours-seconds", type=float, default=2.0, help="time budget per machine, our engine")
    p.add_argument("--moto-seconds", type=float, default=4.0, help="time budget per machine, moto's engine")
    p.add_argument("--memory-runs", type=int, default=3, help="executions in the tracemalloc pass (0: skip)")
    p.add_argument("--map-items", type=int, default=1000)
    p.add_argument("--orders", type=int, default=200, help="orders in the measured stack batch")
    p.add_argument("--clients", type=int, default=16, help="client threads POSTing orders")
    p.add_argument("--time-scale", type=float, default=0.001)
    p.add_argument("--paced-rate", type=float, default=8.0,
                   help="orders/s of the paced (open-loop) stack phase after the burst; 0 skips it")
    p.add_argument("--paced-seconds", type=float, default=10.0)
    p.add_argument("--soak-orders", type=int, default=0,
                   help="after the paced phase, post this many more orders in rounds of --soak-round and record the "
                        "runtime's RSS and threads after each round (0: no soak)")
    p.add_argument("--soak-round", type=int, default=500)
    p.add_argument("--skip-engine", action="store_true")
    p.add_argument("--skip-stack", action="store_true")
    p.add_argument("--json", type=Path, default=REPO_ROOT / ".bench" / "results.json")
    args = p.parse_args(argv)

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"DOFS bench: {os.cpu_count()} CPUs, load average {load}", flush=True)
    results, stack, stack_error = [], None, None
    if not args.skip_engine:
        print("== engines (ours vs moto, in-process)", flush=True)
        results = run_engine_bench(
            all_machines(map_count=args.map_items),
            budgets={"ours": Budget(args.ours_seconds, 100_000), "moto": Budget(args.moto_seconds, 10_000)},
            memory_runs=args.memory_runs or None, single_thread=Budget(args.ours_seconds, 100_000),
            log=lambda line: print(line, flush=True))
    if not args.skip_stack:
        print("== local stack end to end", flush=True)
        from .stack_bench import run_stack_bench

        try:
            stack = run_stack_bench(orders=args.orders, clients=args.clients, time_scale=args.time_scale,
                                    paced_rate=args.paced_rate, paced_seconds=args.paced_seconds,
                                    soak_orders=args.soak_orders, soak_round=args.soak_round,
                                    log=lambda line: print(line, flush=True))
        except Exception as exc:  # the stack did not start or failed: say so, keep the engine results
            stack_error = f"{type(exc).__name__}: {str(exc)[-2000:]}"
            print(f"  local stack bench failed: {stack_error}", flush=True)
    print()
    if results:
        print(engine_table(results))
        print()
    if stack is not None:
        print(stack_table(stack))
        print()
    for line in differences(results) + goals(results, stack):
        print(line)
    print()
    for line in notes():
        print(f"* {line}")
    elapsed = time.perf_counter() - started
    write_json(args.json, results, stack, {"bench_seconds": elapsed, "stack_error": stack_error, "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}})
    print(f"\n{elapsed:.0f} s; results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
