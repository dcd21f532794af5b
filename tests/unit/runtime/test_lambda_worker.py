"""Worker details of Lambda's REPORT line and Runtime API headers: Max Memory Used and the X-Ray trace header."""
from __future__ import annotations

import math
import os
import re

from local_runtime.awslambda.worker import Worker, _trace_id


class _Process:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def _worker_of(pid: int) -> Worker:
    worker = Worker.__new__(Worker)  # no server, no process: only what _max_memory_mb reads
    worker._proc = _Process(pid)
    return worker


def test_max_memory_used_is_the_process_peak_resident_set_in_megabytes():
    # GIVEN this test's own process, whose VmHWM /proc reports in kB
    with open(f"/proc/{os.getpid()}/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    # WHEN the worker reads it, THEN it is that figure rounded up to MB (the peak never falls: read after it)
    assert math.ceil(peak_kb / 1024) <= _worker_of(os.getpid())._max_memory_mb() <= math.ceil(peak_kb / 1024) + 1


def test_max_memory_used_of_a_process_that_is_gone_is_zero():
    assert _worker_of(2**22 + 1)._max_memory_mb() == 0  # above pid_max's ceiling: never a live process


def test_trace_header_has_the_x_ray_shape_and_fresh_ids():
    first, second = _trace_id(), _trace_id()
    shape = r"Root=1-[0-9a-f]{8}-(?P<root>[0-9a-f]{24});Parent=(?P<parent>[0-9a-f]{16});Sampled=0"
    one, two = re.fullmatch(shape, first), re.fullmatch(shape, second)
    assert one and two, (first, second)
    assert one["root"] != two["root"] and one["parent"] != two["parent"]
