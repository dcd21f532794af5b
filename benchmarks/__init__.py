"""DOFS benchmarks (``make bench`` = ``python -m benchmarks``).

Two parts, run in one process:

* engine: our Step Functions engine (local_runtime.stepfunctions) side by side with moto's engine, in-process, on
  the same definitions (definitions.py), driven at the same level (engines.py), timed by engine_bench.py;
* stack: the whole local runtime (``python -m local_runtime serve``) end to end: POST /orders until each order's
  row in the orders table is terminal (stack_bench.py).

Results are printed as a table (report.py) and written to ``.bench/results.json``.
"""
