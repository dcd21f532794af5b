"""Injected faults of chaos runs (local_runtime/awslambda/faults.py) and a worker killed from outside, against real
awslambdaric workers; duplicate SQS deliveries against moto's queues."""
from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local_runtime.config import Settings
from local_runtime.awslambda.event_sources.sqs import SqsEventSource
from local_runtime.awslambda.faults import Faults, Rule, parse
from local_runtime.awslambda import LambdaService
from local_runtime.template import TemplateError
from tests.local.test_awslambda_workers import BASE_ENV, body, invoke, spec
from tests.support.polling import wait_until


def test_faults_grammar():
    assert parse("error:0.01:ChargePaymentFunction+ReserveInventoryFunction, timeout:0.5,duplicate:1") == [
        Rule("error", 0.01, ("ChargePaymentFunction", "ReserveInventoryFunction")), Rule("timeout", 0.5),
        Rule("duplicate", 1.0)]
    assert Settings.from_env({}).faults == ""  # off unless asked
    for bad in ("crash:0.1", "error:often", "error:1.5", "error"):
        with pytest.raises(TemplateError):
            Settings.from_env({"FAULTS": bad})


def test_rule_targets_logical_ids_and_physical_names():
    rule = Rule("error", 1.0, ("ChargePaymentFunction",))
    assert rule.applies_to("dofs-ChargePaymentFunction") and rule.applies_to("ChargePaymentFunction")
    assert not rule.applies_to("dofs-RefundPaymentFunction")
    assert Rule("error", 1.0).applies_to("anything")


@pytest.fixture
def service(request):
    faults = Faults(request.param, seed=7)
    lambdas = LambdaService([spec("test-Touch", "app.touch"), spec("test-Mark", "app.mark_then_sleep", timeout=1),
                             spec("test-Echo", "app.echo", environment={"GREETING": "hi"})], BASE_ENV, faults=faults)
    lambdas.start()
    yield lambdas, faults
    lambdas.stop()


@pytest.mark.parametrize("service", [[Rule("error", 1.0, ("test-Touch",))]], indirect=True)
def test_error_fault_reports_a_failure_after_the_handler_did_its_work(service, tmp_path):
    lambdas, faults = service
    marker = tmp_path / "touched"
    result = invoke(lambdas, "test-Touch", {"path": str(marker)})
    assert (result.function_error, body(result)) == ("Unhandled", {
        "errorType": "FaultInjectedError", "errorMessage": "fault injected after the handler of test-Touch ran"})
    assert marker.read_text() == result.request_id  # the work was done
    assert invoke(lambdas, "test-Echo", {}).function_error is None  # other functions are left alone
    assert faults.counts() == {"error": {"test-Touch": 1}}


@pytest.mark.parametrize("service", [[Rule("timeout", 1.0, ("test-Mark",))]], indirect=True)
def test_timeout_fault_hangs_to_the_functions_timeout_and_replaces_the_worker(service, tmp_path):
    lambdas, faults = service
    marker = tmp_path / "pid"
    result = invoke(lambdas, "test-Mark", {"path": str(marker), "seconds": 0})
    assert (result.function_error, body(result)) == ("Unhandled", {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds"})
    first_pid = int(marker.read_text())
    wait_until(lambda: not Path(f"/proc/{first_pid}").exists() or
               Path(f"/proc/{first_pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z",
               5, "the timed-out worker lives on", 0.02)
    invoke(lambdas, "test-Mark", {"path": str(marker), "seconds": 0})
    assert int(marker.read_text()) != first_pid
    assert faults.counts() == {"timeout": {"test-Mark": 2}}


@pytest.mark.parametrize("service", [[]], indirect=True)
def test_worker_killed_mid_invocation_fails_it_as_a_crashed_runtime_and_is_replaced(service, tmp_path):
    # what `make chaos` does from outside: SIGKILL a worker process while it runs an invocation
    lambdas, _ = service
    marker = tmp_path / "pid"
    results = []
    thread = threading.Thread(target=lambda: results.append(
        invoke(lambdas, "test-Mark", {"path": str(marker), "seconds": 30})))
    thread.start()
    wait_until(marker.exists, 10, "the handler never started", 0.01)
    pid = int(marker.read_text())
    os.kill(pid, signal.SIGKILL)
    thread.join(10)
    [result] = results
    assert (result.function_error, body(result)) == ("Unhandled", {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed"})
    marker.unlink()
    after = invoke(lambdas, "test-Mark", {"path": str(marker), "seconds": 0})
    assert after.function_error is None and body(after)["pid"] != pid


def test_duplicate_fault_delivers_a_batch_twice_and_the_first_outcome_decides(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="dup", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="one")
        deliveries = []

        def consumer(function, event):
            deliveries.append([r["body"] for r in event["Records"]])
            return json.dumps({"batchItemFailures": []}).encode(), None

        faults = Faults([Rule("duplicate", 1.0, ("FulfillOrderFunction",))])
        source = SqsEventSource({"EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:dup", "BatchSize": 10,
                                 "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:dofs-FulfillOrderFunction",
                                 "FunctionResponseTypes": ["ReportBatchItemFailures"]}, sqs, consumer, faults=faults)
        assert source.poll_once(wait_seconds=0) == 1
        assert deliveries == [["one"], ["one"]]
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # deleted after the first delivery
        assert faults.counts() == {"duplicate": {"arn:aws:lambda:us-east-1:123456789012:function:"
                                                 "dofs-FulfillOrderFunction": 1}}
