"""Engine throughput and memory: each bench machine on our engine and on moto's, one execution at a time.

For each (machine, engine): one untimed warm-up execution, then executions back to back (start, wait for the end,
next) until the time budget is spent or the count cap is reached, at least ``min_count``. Rates are executions /
elapsed and state transitions / elapsed, where transitions per execution are counted from the engine's own history
(``*StateEntered`` events, including those inside Parallel branches and Map iterations).

Memory is measured in a separate pass (tracemalloc slows both engines): tracemalloc peak above the pre-pass level
while ``memory_runs`` executions run back to back, finished executions retained, as both engines retain them.
"""
from __future__ import annotations

import gc
import json
import time
import tracemalloc
from dataclasses import asdict, dataclass, field

from .definitions import BenchMachine, all_machines
from .engines import EngineDriver, MotoEngine, OurEngine, transitions


@dataclass
class Budget:
    seconds: float
    max_count: int
    min_count: int = 1


@dataclass
class EngineRun:
    engine: str
    executions: int
    seconds: float
    transitions_per_execution: int
    executions_per_s: float
    transitions_per_s: float
    peak_memory_bytes: int | None = None
    memory_runs: int = 0
    status: str = ""


@dataclass
class MachineResult:
    key: str
    title: str
    notes: str
    runs: dict = field(default_factory=dict)  # engine label -> EngineRun
    same_output: bool | None = None
    difference: str | None = None  # when the outputs differ: where
    single_thread: EngineRun | None = None  # ours, run_sync in the calling thread

    def ratio(self, metric: str = "executions_per_s") -> float | None:
        ours, moto = self.runs.get("ours"), self.runs.get("moto")
        if not ours or not moto or not getattr(moto, metric):
            return None
        return getattr(ours, metric) / getattr(moto, metric)

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "notes": self.notes, "same_output": self.same_output,
                "difference": self.difference,
                "runs": {k: asdict(v) for k, v in self.runs.items()},
                "single_thread": asdict(self.single_thread) if self.single_thread else None,
                "ratio_executions_per_s": self.ratio(), "ratio_transitions_per_s": self.ratio("transitions_per_s")}


def timed(run_one, budget: Budget) -> tuple[int, float]:
    count = 0
    start = time.perf_counter()
    while True:
        run_one()
        count += 1
        elapsed = time.perf_counter() - start
        if count >= budget.max_count or (count >= budget.min_count and elapsed >= budget.seconds):
            return count, elapsed


def memory_peak(driver: EngineDriver, arn: str, input_text: str, runs: int) -> int:
    forget = getattr(driver, "forget", None)
    if forget:
        forget()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(runs):
            driver.run(arn, input_text)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def bench_machine(machine: BenchMachine, drivers: dict[str, EngineDriver], arns: dict[str, str],
                  budgets: dict[str, Budget], memory_runs: int | None, single_thread: Budget | None,
                  log=print) -> MachineResult:
    result = MachineResult(machine.key, machine.title, machine.notes)
    input_text = json.dumps(machine.input)
    outputs = {}
    for label, driver in drivers.items():
        arn = arns[label]
        warm = driver.run(arn, input_text)  # warm-up, untimed; also the reference output and transition count
        outputs[label] = driver.result(warm)
        per_execution = transitions(driver.state_types(warm))
        budget = budgets[label]
        count, elapsed = timed(lambda: driver.run(arn, input_text), budget)
        run = EngineRun(label, count, elapsed, per_execution, count / elapsed, count * per_execution / elapsed,
                        status=outputs[label]["status"])
        if memory_runs:
            run.memory_runs = max(1, min(memory_runs, count))
            run.peak_memory_bytes = memory_peak(driver, arn, input_text, run.memory_runs)
        result.runs[label] = run
        log(f"  {machine.key:<11} {label:<5} {count:6d} executions in {elapsed:6.2f} s: "
            f"{run.executions_per_s:10.1f} exec/s {run.transitions_per_s:12.0f} transitions/s")
    if single_thread is not None and "ours" in drivers:
        ours: OurEngine = drivers["ours"]  # type: ignore[assignment]
        per_execution = result.runs["ours"].transitions_per_execution
        count, elapsed = timed(lambda: ours.run_sync(arns["ours"], input_text), single_thread)
        result.single_thread = EngineRun("ours (1 thread)", count, elapsed, per_execution, count / elapsed,
                                         count * per_execution / elapsed, status="SUCCEEDED")
        log(f"  {machine.key:<11} ours, run in the calling thread: {count / elapsed:10.1f} exec/s "
            f"{count * per_execution / elapsed:12.0f} transitions/s")
    if len(outputs) == 2:
        result.same_output = outputs["ours"] == outputs["moto"]
        if not result.same_output:
            result.difference = describe_difference(outputs["ours"], outputs["moto"])
    return result


def describe_difference(a, b, where: str = "$") -> str:
    """The first place where two JSON values differ (for the report)."""
    if type(a) is not type(b):
        return f"{where}: {str(a)[:80]} != {str(b)[:80]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{where}.{key}: present on one side only"
            if a[key] != b[key]:
                return describe_difference(a[key], b[key], f"{where}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return describe_difference(x, y, f"{where}[{i}]")
    return f"{where}: {str(a)[:80]} != {str(b)[:80]}"


def run_engine_bench(machines: list[BenchMachine] | None = None, budgets: dict[str, Budget] | None = None,
                     memory_runs: int | None = 3, single_thread: Budget | None = None, engines=("ours", "moto"),
                     log=print) -> list[MachineResult]:
    machines = machines if machines is not None else all_machines()
    budgets = budgets or {"ours": Budget(2.0, 100_000), "moto": Budget(4.0, 10_000)}
    factories = {"ours": OurEngine, "moto": MotoEngine}
    drivers = {label: factories[label]() for label in engines}
    try:
        arns = {m.key: {label: d.create(f"bench-{m.key}", m.definition) for label, d in drivers.items()}
                for m in machines}
        return [bench_machine(m, drivers, arns[m.key], budgets, memory_runs, single_thread, log=log)
                for m in machines]
    finally:
        for driver in drivers.values():
            driver.close()


def compare_outputs(machines: list[BenchMachine] | None = None, runs: int = 2) -> dict[str, tuple[list, list]]:
    """Run each machine ``runs`` times on both engines; {key: (our summaries, moto's summaries)}."""
    machines = machines if machines is not None else all_machines()
    ours, moto = OurEngine(), MotoEngine()
    try:
        out = {}
        for m in machines:
            text = json.dumps(m.input)
            a, b = ours.create(f"cmp-{m.key}", m.definition), moto.create(f"cmp-{m.key}", m.definition)
            out[m.key] = ([ours.result(ours.run(a, text)) for _ in range(runs)],
                          [moto.result(moto.run(b, text)) for _ in range(runs)])
        return out
    finally:
        moto.close()
