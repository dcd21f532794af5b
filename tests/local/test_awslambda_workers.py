"""LambdaService against real awslambdaric worker processes on loopback.

Handlers live in tests/local/lambda_fixtures/: ``basic`` (one behaviour per handler), ``broken_import``, and
``layer_code`` whose module comes from the ``layer`` directory.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local_runtime import errors
from local_runtime.awslambda import exceptions
from local_runtime.awslambda import FunctionSpec, InvokeResult, LambdaService
from tests.support.polling import wait_until

FIXTURES = Path(__file__).parent / "lambda_fixtures"
BASIC = str(FIXTURES / "basic")
BASE_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def spec(name: str, handler: str, code_dir: str = BASIC, timeout: float = 3, **kwargs) -> FunctionSpec:
    return FunctionSpec(
        name=name, arn=arn(name), handler=handler, code_dir=code_dir, layer_dirs=kwargs.pop("layer_dirs", []),
        timeout=timeout, **kwargs,
    )


FUNCTIONS = [
    spec("test-Echo", "app.echo", memory_mb=256, environment={"GREETING": "hello"}),
    spec("test-Reject", "app.reject"),
    spec("test-Sleep", "app.sleep", timeout=1),
    spec("test-Parallel", "app.sleep"),
    spec("test-BrokenImport", "app.lambda_handler", code_dir=str(FIXTURES / "broken_import")),
    spec("test-MissingHandler", "app.missing"),
    spec("test-Exit", "app.exit_now"),
    spec(
        "test-Layer", "app.lambda_handler", code_dir=str(FIXTURES / "layer_code"), layer_dirs=[str(FIXTURES / "layer")]
    ),
    spec("test-Environment", "app.environment", environment={"ORDERS_TABLE_NAME": "orders"}),
    spec("test-Touch", "app.touch"),
    spec("test-Say", "app.say"),
    spec("test-BigResponse", "app.big_response"),
    spec("test-Counted", "app.echo"),
]


@pytest.fixture(scope="module")
def lambdas():
    service = LambdaService(FUNCTIONS, BASE_ENV)
    service.start()
    yield service
    service.stop()


def invoke(service: LambdaService, name: str, event: dict, **kwargs) -> InvokeResult:
    return service.invoke(name, json.dumps(event).encode(), **kwargs)


def body(result: InvokeResult) -> dict:
    return json.loads(result.payload)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited but is not reaped yet


def descendants_of(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_echo_sees_event_context_and_environment(lambdas):
    # WHEN the function is invoked by name
    result = invoke(lambdas, "test-Echo", {"order_id": "o-1"})

    # THEN it gets the event and a context filled from the Runtime API headers and the environment
    assert result.function_error is None
    assert result.status_code == 200
    out = body(result)
    assert out["event"] == {"order_id": "o-1"}
    assert out["function_name"] == "test-Echo"
    assert out["aws_request_id"] == result.request_id
    assert 0 < out["remaining_ms"] <= 3000
    assert out["invoked_function_arn"] == arn("test-Echo")
    assert out["memory_limit_in_mb"] == "256"
    assert out["greeting"] == "hello"


def test_warm_worker_is_reused(lambdas):
    # GIVEN a function that counts its invocations in a module global
    first = body(invoke(lambdas, "test-Echo", {}))

    # WHEN it is invoked again, by ARN this time
    second = body(invoke(lambdas, arn("test-Echo"), {}))

    # THEN the same process served both, keeping its module state
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_reserved_and_base_environment(lambdas):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT",
        "_HANDLER", "TZ", "POWERTOOLS_TRACE_DISABLED", "PYTHONPATH", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
        "ORDERS_TABLE_NAME",
    ]
    env = body(invoke(lambdas, "test-Environment", {"names": names}))
    assert env == {
        "AWS_LAMBDA_FUNCTION_NAME": "test-Environment",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/test-Environment",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": BASIC,
        "_HANDLER": "app.environment",
        "TZ": ":UTC",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": BASIC,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_ACCESS_KEY_ID": "testing",
        "ORDERS_TABLE_NAME": "orders",
    }


def test_handler_exception_reports_bare_class_name(lambdas):
    result = invoke(lambdas, "test-Reject", {"order_id": "o-7"})

    assert result.function_error == "Unhandled"
    error = body(result)
    assert error["errorType"] == "OrderRejectedError"
    assert error["errorMessage"] == "order o-7 rejected"
    assert error["requestId"] == result.request_id
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]


def test_timeout_kills_worker_and_next_invoke_gets_a_fresh_one(lambdas):
    # GIVEN a warm worker of a function with a 1 s timeout
    warm_pid = body(invoke(lambdas, "test-Sleep", {"seconds": 0}))["pid"]

    # WHEN an invocation runs past the timeout
    started = time.monotonic()
    result = invoke(lambdas, "test-Sleep", {"seconds": 5})
    elapsed = time.monotonic() - started

    # THEN Lambda's timeout error comes back after about 1 s and the worker process is gone
    assert result.function_error == "Unhandled"
    assert body(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 1.0 <= elapsed < 2.0
    wait_until(lambda: not alive(warm_pid), 2, "the timed-out worker is still alive", 0.02)

    # AND the next invocation succeeds on a new worker
    after = invoke(lambdas, "test-Sleep", {"seconds": 0})
    assert after.function_error is None
    assert body(after)["pid"] != warm_pid


def test_import_error_is_an_init_error(lambdas):
    for _ in range(2):  # the failed worker is discarded; the next invoke fails the same way on a new one
        result = invoke(lambdas, "test-BrokenImport", {})
        assert result.function_error == "Unhandled"
        error = body(result)
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert error["errorMessage"] == "Unable to import module 'app': No module named 'module_that_does_not_exist'"


def test_an_init_error_reported_before_the_first_invocation_is_that_invocations_error():
    """awslambdaric posts its init error as soon as the import fails, which can be before the pool hands the worker
    its first invocation: that invocation still fails with the init error, not as a crashed runtime."""
    from local_runtime.awslambda.worker import Invocation, Worker

    worker = Worker(spec("test-BrokenImport", "app.lambda_handler", code_dir=str(FIXTURES / "broken_import")),
                    {}, python=sys.executable)
    worker.start()
    try:
        assert worker.wait(10)   # the init error was posted and the process has exited: nothing was handed to it
        invocation = Invocation(request_id="r-1", payload=b"{}", timeout=3.0)
        worker.run(invocation)
        error = json.loads(invocation.result)
        assert (invocation.function_error, error["errorType"]) == ("Unhandled", "Runtime.ImportModuleError")
    finally:
        worker.kill()
        worker.join()


def test_missing_handler_is_an_init_error(lambdas):
    result = invoke(lambdas, "test-MissingHandler", {})

    assert result.function_error == "Unhandled"
    error = body(result)
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'missing' missing on module 'app'"


def test_process_exit_mid_invoke_is_runtime_exit_error(lambdas):
    result = invoke(lambdas, "test-Exit", {})

    assert result.function_error == "Unhandled"
    assert body(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 1",
    }


def test_layer_module_is_importable(lambdas):
    result = invoke(lambdas, "test-Layer", {"name": "ada"})

    assert result.function_error is None
    assert body(result) == {"message": "hello ada from the layer"}


def test_busy_workers_scale_out(lambdas):
    # WHEN 8 invocations of a 0.3 s function arrive together
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as executor:
        results = list(executor.map(lambda _: invoke(lambdas, "test-Parallel", {"seconds": 0.3}), range(8)))
    elapsed = time.monotonic() - started

    # THEN they run side by side, one worker each, instead of one after another (8 x 0.3 s)
    assert all(result.function_error is None for result in results)
    assert len({body(result)["pid"] for result in results}) == 8
    assert elapsed < 1.5


@pytest.mark.parametrize("name,reserved,max_per_function", [
    ("test-Queued", None, 1),  # invocations queue beyond the runtime's concurrency per function
    ("test-Reserved", 1, 4),  # ReservedConcurrentExecutions below that limit caps the workers
])
def test_invocations_beyond_the_concurrency_limit_queue_for_one_worker(name, reserved, max_per_function):
    service = LambdaService([spec(name, "app.sleep", reserved_concurrency=reserved)], BASE_ENV,
                            max_concurrency_per_function=max_per_function)
    service.start()
    try:
        with ThreadPoolExecutor(max_workers=3) as executor:
            results = list(executor.map(lambda _: invoke(service, name, {"seconds": 0.2}), range(3)))
    finally:
        service.stop()

    assert all(result.function_error is None for result in results)
    assert len({body(result)["pid"] for result in results}) == 1


def test_reserved_concurrency_zero_throttles_every_invoke():
    service = LambdaService([spec("test-Throttled", "app.echo", reserved_concurrency=0)], BASE_ENV)
    service.start()
    try:
        with pytest.raises(exceptions.TooManyRequestsException) as raised:
            invoke(service, "test-Throttled", {})
    finally:
        service.stop()

    assert raised.value.status == 429
    assert service.invocation_counts() == {}  # a throttled invoke never reached a worker
    assert raised.value.to_json() == {"__type": "TooManyRequestsException", "message": "Rate Exceeded.",
                                      "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"}


def test_concurrent_workers_are_separate_processes_with_their_own_random_state():
    # two workers of one function at once: forked from one server (unless LAMBDA_FORKSERVER=0), yet each reseeded,
    # in its own session, in the function's directory, and without the runtime's modules
    service = LambdaService([spec("test-Introspect", "app.introspect")], BASE_ENV, max_concurrency_per_function=2)
    service.start()
    try:
        with ThreadPoolExecutor(max_workers=2) as executor:
            results = list(executor.map(lambda _: body(invoke(service, "test-Introspect", {"seconds": 0.3})),
                                        range(2)))
    finally:
        service.stop()

    assert results[0]["pid"] != results[1]["pid"]
    assert results[0]["random"] != results[1]["random"]
    for result in results:
        assert result["cwd"] == BASIC
        assert result["path"][0] == BASIC
        assert str(Path(__file__).resolve().parents[2]) not in result["path"]
        assert result["runtime_importable"] is False
        assert result["session_leader"] is True


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_a_function_that_changes_an_import_time_variable_gets_a_plain_process(monkeypatch):
    # AWS_LAMBDA_LOG_LEVEL is one of forkserver.IMPORT_TIME_VARIABLES: a function that sets it starts the plain way
    monkeypatch.setenv("LAMBDA_FORKSERVER", "1")
    functions = [spec("test-Forked", "app.introspect"),
                 spec("test-Plain", "app.introspect", environment={"AWS_LAMBDA_LOG_LEVEL": "DEBUG"})]
    service = LambdaService(functions, BASE_ENV)
    service.start()
    try:
        forked = body(invoke(service, "test-Forked", {}))
        plain = body(invoke(service, "test-Plain", {}))
        assert "forkserver" in _cmdline(forked["pid"])
        assert "-m awslambdaric app.introspect" in _cmdline(plain["pid"])
        # a forked worker sees the same import path as a fresh process
        assert forked["path"] == plain["path"]
    finally:
        service.stop()


def test_workers_outlive_nothing_when_the_fork_server_dies(monkeypatch):
    # the server is killed: its workers go with it, and the next invoke starts a plain worker
    monkeypatch.setenv("LAMBDA_FORKSERVER", "1")
    service = LambdaService([spec("test-Orphan", "app.introspect")], BASE_ENV)
    service.start()
    try:
        first = body(invoke(service, "test-Orphan", {}))["pid"]
        os.kill(service.forkserver_pid, signal.SIGKILL)
        wait_until(lambda: not alive(first), 5, "a worker outlived its fork server", 0.02)
        second = invoke(service, "test-Orphan", {})
        assert second.function_error is None, second.payload
        assert body(second)["pid"] != first
        assert "-m awslambdaric" in _cmdline(body(second)["pid"])
    finally:
        service.stop()


def test_recycled_workers_run_new_code_and_busy_ones_finish_first(tmp_path):
    # GIVEN a function whose code lives in a directory of the test, its warm worker busy with an invocation
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("import os, pathlib, time\nVERSION = 1\n\n\ndef handler(event, context):\n"
                                 "    if 'started' in event:\n"
                                 "        pathlib.Path(event['started']).write_text('')\n"
                                 "        time.sleep(1)\n"
                                 "    return {'version': VERSION, 'pid': os.getpid()}\n")
    started = tmp_path / "started"
    service = LambdaService([spec("test-Versioned", "app.handler", code_dir=str(code), timeout=10)], BASE_ENV)
    service.start()
    try:
        warm = body(invoke(service, "test-Versioned", {}))
        with ThreadPoolExecutor(1) as pool:
            busy = pool.submit(invoke, service, "test-Versioned", {"started": str(started)})
            wait_until(started.exists, 5, "the busy invocation never started", 0.02)
            # WHEN the code changes and the function is recycled
            (code / "app.py").write_text((code / "app.py").read_text().replace("VERSION = 1", "VERSION = 2"))
            for cached in (code / "__pycache__").glob("*.pyc"):
                cached.unlink()
            assert service.recycle(["test-Versioned"]) == {"test-Versioned": 1}
            # THEN the next invocation gets a new worker with the new code, and the busy one finishes on the old
            fresh = body(invoke(service, "test-Versioned", {}))
            assert (fresh["version"], fresh["pid"] != warm["pid"]) == (2, True)
            finished = busy.result(timeout=10)
        assert (finished.function_error, body(finished)) == (None, {"version": 1, "pid": warm["pid"]})
        wait_until(lambda: not alive(warm["pid"]), 5, "the recycled worker was not stopped after its invoke")
        assert body(invoke(service, "test-Versioned", {}))["pid"] == fresh["pid"]  # the new one stays warm
    finally:
        service.stop()


def test_a_new_fork_server_takes_over_and_the_old_one_stops_after_its_last_worker(monkeypatch):
    monkeypatch.setenv("LAMBDA_FORKSERVER", "1")
    service = LambdaService([spec("test-Sleep", "app.sleep", timeout=5)], BASE_ENV)
    service.start()
    try:
        old = service.forkserver_pid
        with ThreadPoolExecutor(1) as pool:
            busy = pool.submit(invoke, service, "test-Sleep", {"seconds": 1})
            wait_until(lambda: len(descendants_of(old)) == 1, 5, "no worker started", 0.02)
            assert service.restart_forkserver()
            new = service.forkserver_pid
            assert new != old and alive(old)  # the old server waits for its busy worker
            second = body(invoke(service, "test-Sleep", {"seconds": 0}))
            assert second["pid"] in descendants_of(new)
            assert busy.result(timeout=10).function_error is None
        wait_until(lambda: not alive(old), 5, "the old fork server did not stop after its last worker")
    finally:
        service.stop()


def test_event_invocation_returns_202_and_runs_in_background(lambdas, tmp_path):
    marker = tmp_path / "ran"

    started = time.monotonic()
    result = invoke(lambdas, "test-Touch", {"path": str(marker), "seconds": 0.3}, invocation_type="Event")

    assert (result.status_code, result.payload, result.function_error) == (202, b"", None)
    assert time.monotonic() - started < 0.3
    wait_until(marker.exists, 5, "the Event invocation never ran", 0.02)
    assert marker.read_text() == result.request_id


def test_dry_run_returns_204_without_running(lambdas):
    result = invoke(lambdas, "test-Echo", {}, invocation_type="DryRun")

    assert (result.status_code, result.payload, result.function_error) == (204, b"", None)


def test_invocation_counts_include_sync_and_event_invokes_but_not_dry_runs(lambdas):
    assert "test-Counted" not in lambdas.invocation_counts()
    for invocation_type in ("RequestResponse", "Event", "DryRun", "RequestResponse"):
        invoke(lambdas, "test-Counted", {}, invocation_type=invocation_type)

    assert lambdas.invocation_counts()["test-Counted"] == 3


def test_unknown_function_is_resource_not_found(lambdas):
    with pytest.raises(errors.ResourceNotFoundException) as raised:
        invoke(lambdas, "test-Nope", {})
    assert raised.value.status == 404
    assert raised.value.message == f"Function not found: {arn('test-Nope')}"
    with pytest.raises(KeyError):
        lambdas.get("test-Echo:7")
    assert lambdas.get("123456789012:function:test-Echo:$LATEST").name == "test-Echo"


def test_request_over_6_mb_is_rejected(lambdas):
    payload = json.dumps({"blob": "x" * (6 * 1024 * 1024)}).encode()

    with pytest.raises(exceptions.RequestTooLargeException) as raised:
        lambdas.invoke("test-Echo", payload)
    assert raised.value.status == 413


def test_response_over_6_mb_is_a_function_error(lambdas):
    result = invoke(lambdas, "test-BigResponse", {"size": 7_000_000})

    assert result.function_error == "Unhandled"
    assert body(result) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }


def test_worker_output_is_forwarded_with_function_name(lambdas, capsys):
    invoke(lambdas, "test-Say", {"line": "order o-9 accepted"})

    seen = []

    def forwarded() -> bool:
        seen.append(capsys.readouterr().err)
        return "REPORT" in "".join(seen)

    # the REPORT line is written before the invocation returns, after everything the function printed
    wait_until(forwarded, 2, lambda _: f"not forwarded: {''.join(seen)!r}", 0.02)
    lines = "".join(seen).splitlines()
    said = [line for line in lines if "order o-9 accepted" in line]
    assert len(said) == 1 and said[0].split()[1:] == ["test-Say", "order", "o-9", "accepted"]
    assert lines.index(said[0]) < next(i for i, line in enumerate(lines) if " REPORT " in line)


def invocation_log(functions: list, name: str, event: dict) -> tuple[InvokeResult, list]:
    """Invoke ``name`` on a service of its own that keeps every log record; returns the result and the records."""
    records = []
    service = LambdaService(functions, BASE_ENV, log_sink=records.append)
    service.start()
    try:
        result = invoke(service, name, event)
    finally:
        service.stop()
    return result, records


REPORT = (r"REPORT RequestId: {id}\tDuration: \d+\.\d\d ms\tBilled Duration: (?P<billed>\d+) ms\t"
          r"Memory Size: 256 MB\tMax Memory Used: (?P<max>\d+) MB\t")


def test_lambda_log_lines_frame_the_function_output_as_lambda_prints_them():
    # GIVEN a function that prints a line
    functions = [spec("test-Say", "app.say", memory_mb=256, label="SayFunction")]

    # WHEN it is invoked twice on one warm worker (cold, then warm)
    records = []
    service = LambdaService(functions, BASE_ENV, log_sink=records.append)
    service.start()
    try:
        first = invoke(service, "test-Say", {"line": "hello"})
        second = invoke(service, "test-Say", {"line": "again"})
    finally:
        service.stop()

    # THEN one log stream holds START, the output, END, REPORT for each, in that order, as Lambda writes them
    assert {(r.label, r.group) for r in records} == {("SayFunction", "/aws/lambda/test-Say")}
    assert len({r.stream for r in records}) == 1
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", records[0].stream)
    messages = [r.message for r in records]
    ids = [first.request_id, second.request_id]
    assert messages[:3] == [f"START RequestId: {ids[0]} Version: $LATEST\n", "hello\n", f"END RequestId: {ids[0]}\n"]
    cold = re.fullmatch(REPORT.format(id=ids[0]) + r"Init Duration: (?P<init>\d+\.\d\d) ms\t\n", messages[3])
    assert cold, messages[3]
    assert int(cold["max"]) > 0
    assert messages[4:7] == [f"START RequestId: {ids[1]} Version: $LATEST\n", "again\n", f"END RequestId: {ids[1]}\n"]
    assert re.fullmatch(REPORT.format(id=ids[1]) + r"\n", messages[7]), messages[7]
    assert len(messages) == 8
    timestamps = [r.timestamp for r in records]
    assert timestamps == sorted(timestamps)


def test_a_timed_out_invocation_is_reported_with_status_timeout():
    result, records = invocation_log([spec("test-Sleep", "app.sleep", timeout=1, memory_mb=256)], "test-Sleep",
                                     {"seconds": 5})
    assert result.function_error == "Unhandled"
    messages = [r.message for r in records]
    assert messages[0] == f"START RequestId: {result.request_id} Version: $LATEST\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z " + result.request_id
                        + r" Task timed out after 1\.00 seconds\n", messages[1])
    assert messages[2] == f"END RequestId: {result.request_id}\n"
    assert re.fullmatch(REPORT.format(id=result.request_id) + r"Init Duration: \d+\.\d\d ms\tStatus: timeout\t\n",
                        messages[3]), messages[3]


def test_an_init_error_is_reported_before_the_invocation():
    result, records = invocation_log(
        [spec("test-BrokenImport", "app.lambda_handler", code_dir=str(FIXTURES / "broken_import"), memory_mb=256)],
        "test-BrokenImport", {})
    messages = [r.message for r in records]
    init = next(i for i, m in enumerate(messages) if m.startswith("INIT_REPORT Init Duration: "))
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n" in messages[init]
    assert any("Runtime.ImportModuleError" in m for m in messages[:init])  # awslambdaric's own error line first
    assert messages[init + 1:init + 3] == [f"START RequestId: {result.request_id} Version: $LATEST\n",
                                           f"END RequestId: {result.request_id}\n"]
    assert messages[init + 3].endswith("\tStatus: error\tError Type: Runtime.ImportModuleError\t\n")


def test_stop_leaves_no_worker_processes(tmp_path):
    # GIVEN a service with an idle warm worker and one busy in a background invocation
    before = descendants_of(os.getpid())
    threads_before = set(threading.enumerate())
    functions = [spec("test-Echo", "app.echo", environment={"GREETING": "x"}), spec("test-Touch", "app.touch")]
    service = LambdaService(functions, BASE_ENV)
    service.start()
    pid = body(invoke(service, "test-Echo", {}))["pid"]
    invoke(service, "test-Touch", {"path": str(tmp_path / "never"), "seconds": 30}, invocation_type="Event")
    servers = {service.forkserver_pid} - {None}  # workers are forked by it unless LAMBDA_FORKSERVER=0
    wait_until(lambda: len(descendants_of(os.getpid()) - before - servers) >= 2, 3, "the second worker never started",
               0.02)
    workers = descendants_of(os.getpid()) - before - servers
    assert pid in workers and len(workers) == 2

    # WHEN the service stops (twice: the second call is a no-op)
    service.stop()
    service.stop()

    # THEN every worker process is gone and the service refuses new work
    assert [p for p in workers if alive(p)] == []
    assert descendants_of(os.getpid()) - before == set()
    assert [t.name for t in set(threading.enumerate()) - threads_before] == []
    with pytest.raises(exceptions.ServiceException):
        invoke(service, "test-Echo", {})
