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


def test_each_thread_meters_its_own_request():
    meter = CpuMeter()
    ready, release = threading.Barrier(2), threading.Event()

    def serve(caller: str) -> None:
        meter.begin()
        meter.label(caller, "op")
        ready.wait()
        release.wait(5)
        meter.end()

    threads = [threading.Thread(target=serve, args=(name,)) for name in ("lambda", "runtime")]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)

    assert sorted(meter.snapshot_ms()) == ["lambda", "runtime"]

