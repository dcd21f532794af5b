"""The endpoint's CPU per request by caller and operation (gateway/stats.py CpuMeter), on a scripted clock."""
from __future__ import annotations

import threading

import pytest

from local_runtime.gateway import stats
from local_runtime.gateway.stats import CpuMeter, RequestCounts


@pytest.fixture
def clock(monkeypatch):
    """time.thread_time as the test sets it."""
    now = {"t": 0.0}
    monkeypatch.setattr(stats.time, "thread_time", lambda: now["t"])
    return now


def test_a_request_is_charged_to_the_operation_it_was_counted_as(clock):
    counts = RequestCounts()
    environ = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
               "HTTP_USER_AGENT": "Boto3/1 exec-env/AWS_Lambda_python3.13"}
    for spent in (0.002, 0.003):
        counts.cpu.begin()
        counts.add(environ)
        clock["t"] += spent
        counts.cpu.end()

    assert counts.snapshot() == {"lambda": {"DynamoDB_20120810.GetItem": 2}}
    assert counts.cpu.snapshot_ms() == {"lambda": {"DynamoDB_20120810.GetItem": 5.0}}


def test_a_request_served_inside_another_is_charged_to_itself_and_left_out_of_the_outer_one(clock):
    meter = CpuMeter()
    meter.begin()
    meter.label("lambda", "sns.Publish")
    clock["t"] += 0.001
    meter.begin()  # the publish delivers to a queue in process
    meter.label("runtime", "AmazonSQS.SendMessage")
    clock["t"] += 0.004
    meter.end()
    clock["t"] += 0.002
    meter.end()

    assert meter.snapshot_ms() == {"lambda": {"sns.Publish": 3.0}, "runtime": {"AmazonSQS.SendMessage": 4.0}}


def test_the_first_name_given_a_request_stays_and_an_unnamed_one_is_the_endpoints(clock):
    meter = CpuMeter()
    meter.begin()
    meter.label("other", "DynamoDB_20120810.PutItem")
    meter.label("other", "DynamoDB_20120810.GetItem")  # a second count of the same request names nothing new
    clock["t"] += 0.001
    meter.end()
    meter.begin()  # /_local/health: no AWS request
    clock["t"] += 0.0005
    meter.end()
    meter.end()  # an end without a begin (nothing metered) changes nothing

    assert meter.snapshot_ms() == {"endpoint": {"(no AWS request)": 0.5}, "other": {"DynamoDB_20120810.PutItem": 1.0}}


@pytest.fixture
def thread_clocks(monkeypatch):
    """time.thread_time per thread, as the test sets it: ``thread_clocks.spend(ms)`` on the calling thread."""
    now: dict[int, float] = {}

    class Clocks:
        @staticmethod
        def spend(ms: float) -> None:
            now[threading.get_ident()] = now.get(threading.get_ident(), 0.0) + ms / 1000

    monkeypatch.setattr(stats.time, "thread_time", lambda: now.get(threading.get_ident(), 0.0))
    return Clocks


def test_requests_overlapping_on_two_threads_are_neither_nested_nor_swapped(thread_clocks):
    """Thread A's request is open while thread B's begins; A's ends first, then B's: each is charged its own
    thread's CPU under its own name (a frame stack shared by threads would nest B in A, or end B's frame for A)."""
    meter = CpuMeter()
    b_began, a_ended = threading.Event(), threading.Event()

    def thread_b() -> None:
        meter.begin()
        meter.label("runtime", "AmazonSQS.SendMessage")
        thread_clocks.spend(4)
        b_began.set()
        a_ended.wait(5)
        thread_clocks.spend(1)
        meter.end()

    meter.begin()
    thread_clocks.spend(1)
    other = threading.Thread(target=thread_b)
    other.start()
    assert b_began.wait(5)
    meter.label("lambda", "DynamoDB_20120810.GetItem")  # named after B's began
    thread_clocks.spend(2)
    meter.end()
    a_ended.set()
    other.join(5)

    assert meter.snapshot_ms() == {"lambda": {"DynamoDB_20120810.GetItem": 3.0},
                                   "runtime": {"AmazonSQS.SendMessage": 5.0}}


def test_operations_named_by_clients_beyond_the_bound_are_counted_together(clock, monkeypatch):
    monkeypatch.setattr(stats, "MAX_OPERATIONS", 3)
    counts = RequestCounts()
    for index in range(5):  # e.g. a path's first segment, which any client chooses
        counts.cpu.begin()
        counts.add({"PATH_INFO": f"/made-up-{index}", "REQUEST_METHOD": "GET"})
        clock["t"] += 0.001
        counts.cpu.end()

    assert counts.snapshot() == {"other": {"unsigned GET /made-up-0": 1, "unsigned GET /made-up-1": 1,
                                           "unsigned GET /made-up-2": 1, "(more operations)": 2}}
    assert counts.cpu.snapshot_ms()["other"]["(more operations)"] == 2.0
