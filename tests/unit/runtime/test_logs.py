"""Function and execution logs: the terminal's lines, CloudWatch Logs batches (moto in process), and Step Functions
execution logs by level as AWS writes them."""
import io
import json
import re
import time

import boto3
import pytest
from moto import mock_aws

from local_runtime.logs.execution_logs import ERROR_EVENTS, ExecutionLogShipper, log_event, logging_settings
from local_runtime.logs import MAX_BATCH_EVENTS, CloudWatchShipper, Console, LogRecord, parse_log_format
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from tests.support.polling import wait_until

GROUP = "/aws/lambda/dofs-ValidateOrderFunction"
STREAM = "2026/12/04/[$LATEST]0123456789abcdef0123456789abcdef"
T0 = int(time.time()) * 1000  # CloudWatch (and moto) refuse events more than 14 days old


def record(message: str, timestamp: int = T0, label: str = "ValidateOrderFunction") -> LogRecord:
    return LogRecord(label, GROUP, STREAM, timestamp, message + "\n")


def plain(message: str, **console) -> str | None:
    return Console(colour=False, label_width=22, **console).format(record(message))


# -- the terminal ----------------------------------------------------------------------------------------------------

def test_a_powertools_record_is_one_line_with_its_own_keys():
    line = json.dumps({"level": "INFO", "location": "app:12", "message": "order stored", "timestamp": "x",
                       "service": "dofs", "cold_start": True, "function_name": "f", "function_request_id": "r",
                       "xray_trace_id": "t", "order_id": "O-1", "total_cents": 11597})
    assert plain(line)[13:] == "ValidateOrderFunction  INFO    order stored  order_id=O-1 total_cents=11597"


def test_an_emf_blob_is_summarised_as_its_metrics():
    blob = json.dumps({"_aws": {"Timestamp": T0, "CloudWatchMetrics": [{
        "Namespace": "DOFS", "Dimensions": [["service"]],
        "Metrics": [{"Name": "OrdersPlaced", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}]}]},
        "service": "dofs", "OrdersPlaced": [1.0], "Latency": [12.5]})
    assert plain(blob)[13:] == ("ValidateOrderFunction  METRIC  OrdersPlaced=1 Count, Latency=12.5 Milliseconds  "
                                "(DOFS; service=dofs)")


def test_report_is_summarised_and_start_and_end_are_left_out():
    report = ("REPORT RequestId: 8f5e\tDuration: 3.21 ms\tBilled Duration: 30 ms\tMemory Size: 256 MB\t"
              "Max Memory Used: 80 MB\tInit Duration: 26.40 ms\t")
    assert plain(report)[13:] == ("ValidateOrderFunction  REPORT  3.21 ms (billed 30 ms), max 80 MB of 256 MB, "
                                  "init 26.40 ms")
    timeout = report.replace("Init Duration: 26.40 ms\t", "Status: timeout\t")
    assert plain(timeout)[13:] == ("ValidateOrderFunction  ERROR   3.21 ms (billed 30 ms), max 80 MB of 256 MB, "
                                   "status timeout")
    assert plain("START RequestId: 8f5e Version: $LATEST") is None
    assert plain("END RequestId: 8f5e") is None


def test_a_runtime_error_record_keeps_its_traceback_on_indented_lines():
    text = "[ERROR] CustomerInactiveError: customer CUST-003 is SUSPENDED\rTraceback (most recent call last):\r  File x"
    assert plain(text)[13:].split("\n") == [
        "ValidateOrderFunction  ERROR   CustomerInactiveError: customer CUST-003 is SUSPENDED",
        "    Traceback (most recent call last):", "      File x"]
    logged = "[WARNING]\t2026-12-04T21:00:00.123Z\t8f5e\tslow table"
    assert plain(logged)[13:] == "ValidateOrderFunction  WARNING slow table"
    assert plain("just printed")[13:] == "ValidateOrderFunction          just printed"


def test_json_format_prints_the_event_as_cloudwatch_stores_it():
    line = Console("json").format(record("hello"))
    assert json.loads(line) == {"logGroupName": GROUP, "logStreamName": STREAM, "timestamp": T0,
                                "message": "hello\n"}


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, piped = Terminal(), io.StringIO()
    Console(stream=terminal).write(record('{"level": "ERROR", "message": "boom"}'))
    Console(stream=piped).write(record('{"level": "ERROR", "message": "boom"}'))
    assert "\033[1;31mERROR" in terminal.getvalue()
    assert "\033" not in piped.getvalue() and "ERROR   boom" in piped.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    again = Terminal()
    Console(stream=again).write(record('{"level": "ERROR", "message": "boom"}'))
    assert "\033" not in again.getvalue()


def test_log_format_is_text_or_json():
    assert (parse_log_format(None), parse_log_format("JSON")) == ("text", "json")
    with pytest.raises(ValueError) as raised:
        parse_log_format("yaml")
    assert str(raised.value) == "LOG_FORMAT must be one of text, json, not 'yaml'"


# -- CloudWatch Logs -------------------------------------------------------------------------------------------------

@pytest.fixture
def logs():
    with mock_aws():
        yield boto3.client("logs", region_name="us-east-1")


def test_shipper_batches_per_stream_creates_what_is_missing_and_keeps_time_order(logs):
    logs.create_log_group(logGroupName=GROUP)
    shipper = CloudWatchShipper(lambda: logs)
    shipper.add(GROUP, STREAM, T0 + 2, "second\n")
    shipper.add(GROUP, STREAM, T0 + 1, "first\n")
    shipper.add("/aws/lambda/dofs-Other", "other-stream", T0, "elsewhere\n")  # its group does not exist yet

    assert shipper.flush() == 3
    assert shipper.flush() == 0  # nothing twice

    events = logs.filter_log_events(logGroupName=GROUP)["events"]
    assert [(e["logStreamName"], e["timestamp"], e["message"]) for e in events] == [
        (STREAM, T0 + 1, "first\n"), (STREAM, T0 + 2, "second\n")]
    other = logs.filter_log_events(logGroupName="/aws/lambda/dofs-Other")["events"]
    assert [e["message"] for e in other] == ["elsewhere\n"]


class CountingLogs:
    """A logs client that records the batches it is sent."""

    class exceptions:  # noqa: N801 - the shape of a botocore client's
        class ResourceNotFoundException(Exception):
            pass

        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self):
        self.batches = []

    def create_log_stream(self, **kwargs):
        pass

    def put_log_events(self, logGroupName, logStreamName, logEvents):  # noqa: N803 - boto3's names
        self.batches.append(logEvents)


def test_batches_respect_the_put_log_events_quotas():
    client = CountingLogs()
    shipper = CloudWatchShipper(lambda: client)
    for index in range(MAX_BATCH_EVENTS + 5):
        shipper.add(GROUP, STREAM, T0 + index, "x\n")
    big = "y" * 300_000  # longer than an event may be: cut
    for index in range(5):
        shipper.add(GROUP, "big", T0 + index, big)

    assert shipper.flush() == MAX_BATCH_EVENTS + 10
    sizes = [len(batch) for batch in client.batches]
    assert sizes[:2] == [MAX_BATCH_EVENTS, 5]
    big_batches = client.batches[2:]
    assert all(sum(len(e["message"]) + 26 for e in batch) <= 1_048_576 for batch in big_batches)
    assert [len(batch) for batch in big_batches] == [4, 1]  # 4 x (262,118 + 26) bytes: exactly 1 MiB
    assert {len(e["message"]) for batch in big_batches for e in batch} == {256 * 1024 - 26}


# -- Step Functions execution logs -----------------------------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/sfn"
FAILING = {"StartAt": "Shape", "States": {
    "Shape": {"Type": "Pass", "Result": {"secret": "card-4242"}, "Next": "Boom"},
    "Boom": {"Type": "Fail", "Error": "OrderRejected", "Cause": "no stock"}}}


def logging_config(level: str, include_data: bool, group: str = "/aws/vendedlogs/states/m") -> dict:
    return {"level": level, "includeExecutionData": include_data,
            "destinations": [{"cloudWatchLogsLogGroup": {
                "logGroupArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"}}]}


def log_shipping(logs, clock=None):
    """An execution log shipper as start() wires it, without its thread (the test calls ship())."""
    service = StepFunctionsService(Engine(clock or VirtualClock(), Integrations()))
    shipper = CloudWatchShipper(lambda: logs)
    executions = ExecutionLogShipper(service, shipper)
    service.engine.created.append(executions._on_create)  # noqa: SLF001
    service.engine.listeners.append(executions._on_end)  # noqa: SLF001
    return service, shipper, executions


def run_and_ship(logs, level: str, include_data: bool) -> list[dict]:
    service, shipper, executions = log_shipping(logs)
    arn = service.handle("CreateStateMachine", {"name": "m", "definition": json.dumps(FAILING), "roleArn": ROLE,
                                                "loggingConfiguration": logging_config(level, include_data)})[
        "stateMachineArn"]
    execution = service.handle("StartExecution", {"stateMachineArn": arn, "name": "e-1", "input": '{"a": 1}'})
    service.engine.wait(execution["executionArn"], timeout=10)
    executions.ship()  # it was created and has ended since the last pass: shipped once, as it ended
    assert executions.ship() == 0
    shipper.flush()
    try:
        events = logs.filter_log_events(logGroupName="/aws/vendedlogs/states/m")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    assert {e["logStreamName"] for e in events} <= {f"states/m/{service.engine.get(execution['executionArn']).start_date:%Y-%m-%d-%H-%M}/e-1"}
    return [json.loads(e["message"]) for e in events]


def test_all_with_execution_data_logs_every_event_with_its_data(logs):
    events = run_and_ship(logs, "ALL", True)
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                          "FailStateEntered", "ExecutionFailed"]
    started = events[0]
    assert list(started) == ["id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn",
                             "redrive_count"]
    assert (started["id"], started["previous_event_id"], started["redrive_count"]) == ("1", "0", "0")
    assert started["execution_arn"] == "arn:aws:states:us-east-1:123456789012:execution:m:e-1"
    assert re.fullmatch(r"\d{13}", started["event_timestamp"])
    assert started["details"] == {"input": '{"a": 1}', "inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert events[2]["details"]["output"] == '{"secret":"card-4242"}'
    assert events[4]["details"] == {"error": "OrderRejected", "cause": "no stock"}


def test_without_execution_data_inputs_and_outputs_are_left_out(logs):
    events = run_and_ship(logs, "ALL", False)
    assert events[0]["details"] == {"roleArn": ROLE}
    assert events[1]["details"] == {"name": "Shape"}
    assert events[2]["details"] == {"name": "Shape"}
    assert "card-4242" not in json.dumps(events)
    assert events[4]["details"] == {"error": "OrderRejected", "cause": "no stock"}


def test_error_logs_the_failure_events(logs):
    assert [e["type"] for e in run_and_ship(logs, "ERROR", False)] == ["FailStateEntered", "ExecutionFailed"]


def test_fatal_logs_only_the_execution_end(logs):
    assert [e["type"] for e in run_and_ship(logs, "FATAL", False)] == ["ExecutionFailed"]


def test_off_logs_nothing(logs):
    assert run_and_ship(logs, "OFF", True) == []


def test_a_running_execution_is_shipped_as_it_runs_each_event_once(logs):
    clock = VirtualClock()
    service, shipper, executions = log_shipping(logs, clock)
    waiting = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}
    arn = service.handle("CreateStateMachine", {"name": "m", "definition": json.dumps(waiting), "roleArn": ROLE,
                                                "loggingConfiguration": logging_config("ALL", False)})[
        "stateMachineArn"]
    execution_arn = service.handle("StartExecution", {"stateMachineArn": arn, "name": "e-1"})["executionArn"]
    wait_until(lambda: clock.sleepers() == 1, 10, "the execution never reached its Wait state", 0.01)

    def shipped() -> list[str]:
        shipper.flush()
        return [json.loads(e["message"])["type"]
                for e in logs.filter_log_events(logGroupName="/aws/vendedlogs/states/m")["events"]]

    assert executions.ship() == 2
    assert shipped() == ["ExecutionStarted", "WaitStateEntered"]
    clock.advance(60)
    assert service.engine.wait(execution_arn, timeout=10).status == "SUCCEEDED"
    assert executions.ship() == 2
    assert executions.ship() == 0
    assert shipped() == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def test_an_execution_that_ended_before_a_pass_picked_it_up_is_shipped_once(logs):
    service, shipper, executions = log_shipping(logs)
    service.engine.created.clear()  # its creation is seen only after it has ended and been shipped
    arn = service.handle("CreateStateMachine", {"name": "m", "definition": json.dumps(FAILING), "roleArn": ROLE,
                                                "loggingConfiguration": logging_config("ERROR", False)})[
        "stateMachineArn"]
    execution = service.engine.wait(service.handle("StartExecution", {"stateMachineArn": arn, "name": "e-1"})[
        "executionArn"], timeout=10)
    assert executions.ship() == 2
    executions._on_create(execution)  # noqa: SLF001
    assert executions.ship() == 0


def test_logging_settings_read_either_casing():
    api = logging_config("ERROR", False, "/aws/vendedlogs/states/dofs-order")
    cfn = {"Level": "ERROR", "IncludeExecutionData": False, "Destinations": [{"CloudWatchLogsLogGroup": {
        "LogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/dofs-order:*"}}]}
    assert logging_settings(api) == logging_settings(cfn) == ("ERROR", False, "/aws/vendedlogs/states/dofs-order")
    assert logging_settings(None) == ("OFF", False, None)


def test_the_error_level_is_the_documented_table():
    # Step Functions developer guide, "Log levels": the events ERROR (and not FATAL) adds
    assert ERROR_EVENTS == {
        "ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut", "FailStateEntered", "LambdaFunctionFailed",
        "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed", "LambdaFunctionTimedOut", "MapIterationAborted",
        "MapIterationFailed", "MapStateAborted", "MapStateFailed", "ParallelStateAborted", "ParallelStateFailed",
        "TaskFailed", "TaskStartFailed", "TaskStateAborted", "TaskSubmitFailed", "TaskTimedOut", "WaitStateAborted"}
    event = {"id": 3, "previousEventId": 2, "type": "TaskFailed", "timestamp": __import__("datetime").datetime(
        2026, 12, 4, 21, 0, tzinfo=__import__("datetime").UTC), "taskFailedEventDetails": {"error": "E", "cause": "C"}}
    assert log_event("arn:x", event, False) == {
        "id": "3", "type": "TaskFailed", "details": {"error": "E", "cause": "C"}, "previous_event_id": "2",
        "event_timestamp": "1796418000000", "execution_arn": "arn:x", "redrive_count": "0"}


def test_the_runtime_writes_to_the_backend_the_endpoint_serves(logs):
    """MotoLogs (what the runtime ships with) stores in moto's backend: the API then reads the events, and moto's
    own checks apply (a stream of a group that does not exist yet is created with it, too old events refused)."""
    from local_runtime.logs import MotoLogs

    shipper = CloudWatchShipper(lambda: MotoLogs("123456789012", "us-east-1"))
    shipper.add(GROUP, STREAM, T0 + 1, "hello\n")
    assert shipper.flush() == 1
    assert [e["message"] for e in logs.filter_log_events(logGroupName=GROUP)["events"]] == ["hello\n"]
    shipper.add(GROUP, STREAM, 1_000, "from 1970\n")  # older than 14 days: refused, as CloudWatch does
    shipper.flush()
    assert [e["message"] for e in logs.filter_log_events(logGroupName=GROUP)["events"]] == ["hello\n"]
