"""FunctionPool: an invocation's ``on_start`` runs when a worker takes it, not while it waits for a free worker."""
from __future__ import annotations

import threading

from local_runtime.awslambda import FunctionSpec
from local_runtime.awslambda.pool import FunctionPool
from local_runtime.awslambda.worker import Invocation


class FakeWorker:
    """A worker that finishes each invocation when the test releases it."""

    release: dict[str, threading.Event] = {}

    def __init__(self, spec, base_env, python) -> None:
        self.pid = None
        self.alive = True

    def start(self) -> None:
        self.pid = 1

    def run(self, invocation: Invocation) -> None:
        assert self.release[invocation.request_id].wait(10)
        invocation.finish(b"{}", None)


def test_on_start_waits_for_a_free_worker():
    spec = FunctionSpec(name="f", arn="arn:aws:lambda:us-east-1:123456789012:function:f", handler="app.h",
                        code_dir="/nowhere", layer_dirs=[], timeout=3)
    pool = FunctionPool(spec, {}, "python", max_concurrency=1, worker_factory=FakeWorker)
    started: list[str] = []
    FakeWorker.release = {"a": threading.Event(), "b": threading.Event()}
    first = Invocation("a", b"{}", 3.0, on_start=lambda: started.append("a"))
    second = Invocation("b", b"{}", 3.0, on_start=lambda: started.append("b"))
    threads = [threading.Thread(target=pool.run, args=(inv,)) for inv in (first, second)]
    threads[0].start()
    while started != ["a"]:
        threads[0].join(0.001)
    threads[1].start()
    threads[1].join(0.2)  # the second waits for the only worker: it has not started
    assert started == ["a"]
    FakeWorker.release["a"].set()
    threads[0].join(10)
    FakeWorker.release["b"].set()
    threads[1].join(10)
    assert started == ["a", "b"]
    assert first.done.is_set() and second.done.is_set()
