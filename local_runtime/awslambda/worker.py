"""One execution environment: an awslambdaric process, its Runtime API server and its log pump.

A worker runs one invocation at a time. It ends an invocation with the function's response, the error the runtime
posted, its init error, a crash (``Runtime.ExitError``) or a timeout (``Sandbox.Timedout``, the process group is
killed). A worker that crashed, failed to initialise or timed out is dead and never reused.

Logs: each line the process writes is one log event of the worker's log stream (``log_sink``, see
local_runtime/logs/), and the worker adds Lambda's platform lines around each invocation: ``START RequestId: <id>
Version: $LATEST``, ``END RequestId: <id>`` and ``REPORT RequestId: <id> Duration: x ms Billed Duration: y ms Memory
Size: m MB Max Memory Used: z MB`` (tab separated; ``Init Duration`` on a cold start, ``Status: timeout`` /
``error`` when the invocation timed out or the process died). Order is kept without a hand-off between threads:
whoever emits a line (the pump thread, or the Runtime API thread at ``/next`` and at the response) first reads what
the process has written so far, under the worker's log lock; by the time the runtime posts a response it has written
all of that invocation's output, and before ``/next`` returns the process has not seen the new event yet.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import select
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from local_runtime.awslambda.runtime_api import NextEvent, RuntimeApiServer
from local_runtime.logs import Console, LogRecord, LogRouter, LogSink

if TYPE_CHECKING:
    from local_runtime.awslambda.functions import FunctionSpec
    from local_runtime.awslambda.forkserver import ForkedProcess, ForkServer

# Lambda accepts 6,291,556 bytes of response (the documented "6 MB" quota, as its error message states).
MAX_RESPONSE_BYTES = 6_291_556
# On-demand init may take this long before the invocation itself starts; Lambda's Init phase limit.
INIT_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.1
_READ_BYTES = 65536


@dataclass(eq=False)
class Invocation:
    """One request as it travels through a worker; the first outcome recorded wins."""

    request_id: str
    payload: bytes
    timeout: float
    done: threading.Event = field(default_factory=threading.Event)
    result: bytes = b""
    function_error: str | None = None
    deadline: float | None = None  # monotonic, set when the runtime picks the invocation up
    started: float | None = None  # monotonic, when the runtime picked it up (the start of Duration)
    init_ms: float | None = None  # the worker's Init Duration when this invocation was its first
    reported: bool = False  # END and REPORT written
    on_start: Callable[[], None] | None = None  # called when a worker is assigned (pool.py), after any queueing

    def finish(self, result: bytes, function_error: str | None) -> bool:
        if self.done.is_set():
            return False
        self.result, self.function_error = result, function_error
        self.done.set()
        return True


def error_envelope(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timeout_envelope(request_id: str, timeout: float) -> bytes:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    return error_envelope("Sandbox.Timedout", message)


def exit_envelope(request_id: str, returncode: int) -> bytes:
    return error_envelope("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: "
                                               f"{_exit_reason(returncode)}")


def worker_environment(spec: FunctionSpec, base_env: Mapping[str, str], runtime_api: str) -> dict[str, str]:
    """base env, then the function's environment, then Lambda's reserved variables (which always win)."""
    region = spec.arn.split(":")[3] if spec.arn.count(":") >= 6 else base_env.get("AWS_DEFAULT_REGION", "us-east-1")
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update(base_env)
    env.update(spec.environment)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": spec.code_dir,
            "LAMBDA_RUNTIME_DIR": _runtime_dir(),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join([spec.code_dir, *spec.layer_dirs]),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _runtime_dir() -> str:
    try:
        import awslambdaric

        return os.path.dirname(awslambdaric.__file__)
    except ImportError:
        return ""


def _trace_id() -> str:
    random = secrets.token_hex(20)  # one draw: 24 hex digits for the trace, 16 for the parent segment
    return f"Root=1-{int(time.time()):08x}-{random[:24]};Parent={random[24:]};Sampled=0"


class Worker:
    """An awslambdaric process for one function, started with start(), ended with kill() or stop()."""

    def __init__(self, spec: FunctionSpec, base_env: Mapping[str, str], python: str,
                 forkserver: ForkServer | None = None, log_sink: LogSink | None = None) -> None:
        self.spec = spec
        self._forkserver = forkserver
        self._base_env = base_env
        self._python = python
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._current: Invocation | None = None
        self._closed = False  # no more invocations: long polls answer 410
        self._dead = False  # process gone, killed or failed to initialise
        self._init_error: tuple[bytes, str] | None = None  # (body, errorType) the runtime posted at init
        self._server = RuntimeApiServer(self)
        self._proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self._pump: threading.Thread | None = None
        self._log_sink = log_sink or _default_sink()
        self._log_lock = threading.RLock()
        self._log_fd = -1
        self._log_partial = b""
        self._log_eof = False
        self.log_group = f"/aws/lambda/{spec.name}"
        self.log_stream = ""
        self._started_at = 0.0
        self._init_ms: float | None = None  # Init Duration, fixed by _init_ended()
        self._cold = True  # the next invocation is this worker's first: its REPORT has Init Duration

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._server.start(self.spec.name)
        env = worker_environment(self.spec, self._base_env, self._server.address)
        self.log_group = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._started_at = time.monotonic()
        if self._forkserver is not None:
            self._proc = self._forkserver.spawn(self.spec.handler, env, self.spec.code_dir)
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    [self._python, "-m", "awslambdaric", self.spec.handler],
                    cwd=self.spec.code_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError:
                self._server.stop()
                raise
        assert self._proc.stdout is not None
        self._log_fd = self._proc.stdout.fileno()
        os.set_blocking(self._log_fd, False)
        self._pump = threading.Thread(target=self._pump_logs, name=f"lambda-log-{self.spec.name}", daemon=True)
        self._pump.start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return not self._dead and self._proc is not None and self._proc.poll() is None

    def signal(self, sig: int) -> None:
        """Send sig to the worker's process group (the worker leads its own session)."""
        self._close()
        if self._proc is None or self._proc.returncode is not None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        with self._cond:
            self._dead = True
        self.signal(signal.SIGKILL)

    def wait(self, timeout: float) -> bool:
        """True once the process has exited (within timeout seconds)."""
        if self._proc is None:
            return True
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def join(self) -> None:
        """After the process is gone: stop the server and the log pump."""
        self._server.stop()
        if self._pump is not None and self._pump is not threading.current_thread():
            self._pump.join(timeout=2.0)

    def _close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- invoking --------------------------------------------------------------------------------------------------

    def run(self, invocation: Invocation) -> None:
        """Hand invocation to the runtime and wait until it has an outcome."""
        with self._cond:
            gone = self._closed or self._dead
            init_error = self._init_error
            if not gone:
                self._pending = invocation
                self._cond.notify_all()
        if gone:
            # the runtime may report its init error before the first invocation is handed to it: that invocation
            # fails with the init error, as Lambda reports it, not as a crash
            if init_error is not None:
                self._report(invocation, status="error", error_type=init_error[1])
                invocation.finish(init_error[0], "Unhandled")
            else:
                invocation.finish(exit_envelope(invocation.request_id, self._returncode()), "Unhandled")
            return
        queued_at = time.monotonic()
        while True:
            deadline = invocation.deadline
            now = time.monotonic()
            wait = _POLL_SECONDS if deadline is None else max(0.0, min(_POLL_SECONDS, deadline - now))
            if invocation.done.wait(wait):
                return
            now = time.monotonic()
            if self._proc is not None and self._proc.poll() is not None:
                self._on_exit(self._proc.returncode)
            elif deadline is not None and now >= deadline:
                self._time_out(invocation)
            elif deadline is None and now - queued_at > INIT_TIMEOUT_SECONDS + invocation.timeout:
                self._time_out(invocation)

    def _time_out(self, invocation: Invocation) -> None:
        if invocation.started is not None:
            self._platform(f"{_iso_now()} {invocation.request_id} Task timed out after {invocation.timeout:.2f} "
                           "seconds")
        self._report(invocation, status="timeout")
        with self._cond:
            invocation.finish(timeout_envelope(invocation.request_id, invocation.timeout), "Unhandled")
            self._dead = True
        self.kill()

    def _returncode(self) -> int:
        if self._proc is None or self._proc.poll() is None:
            return -signal.SIGKILL
        return self._proc.returncode

    def _on_exit(self, returncode: int) -> None:
        with self._cond:
            self._dead = True
            self._closed = True
            unfinished = [i for i in (self._pending, self._current) if i is not None and not i.done.is_set()]
            self._pending = self._current = None
            self._cond.notify_all()
        for invocation in unfinished:
            if invocation.started is not None:
                self._platform(f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                               f"{_exit_reason(returncode)}\nRuntime.ExitError")
            self._report(invocation, status="error", error_type="Runtime.ExitError")
            invocation.finish(exit_envelope(invocation.request_id, returncode), "Unhandled")

    # -- logs ------------------------------------------------------------------------------------------------------

    def _pump_logs(self) -> None:
        poller = select.poll()
        poller.register(self._log_fd, select.POLLIN | select.POLLPRI)
        while True:
            poller.poll()  # readable, or the process closed its end (POLLHUP is always reported)
            with self._log_lock:
                self._drain()
                if self._log_eof:
                    break
        assert self._proc is not None and self._proc.stdout is not None
        with self._log_lock:
            self._log_fd = -1
            self._proc.stdout.close()
        self._on_exit(self._proc.wait())

    def _drain(self) -> None:
        """Turn what the process has written so far into log records (called with the log lock held)."""
        if self._log_fd < 0 or self._log_eof:
            return
        while True:
            try:
                data = os.read(self._log_fd, _READ_BYTES)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._log_eof = True
                if self._log_partial:
                    self._emit(self._log_partial.decode("utf-8", errors="replace"))
                    self._log_partial = b""
                return
            *lines, self._log_partial = (self._log_partial + data).split(b"\n")
            for line in lines:
                self._emit(line.decode("utf-8", errors="replace"))

    def _emit(self, text: str) -> None:
        """One log event (called with the log lock held). A failing sink loses the line, never the invocation."""
        try:
            self._log_sink(LogRecord(self.spec.label or self.spec.name, self.log_group, self.log_stream,
                                     int(time.time() * 1000), text + "\n"))
        except Exception:  # noqa: BLE001
            pass

    def _platform(self, text: str) -> None:
        """A line of Lambda's own, after everything the process wrote before it."""
        with self._log_lock:
            self._drain()
            self._emit(text)

    def _report(self, invocation: Invocation, status: str | None = None, error_type: str | None = None) -> None:
        """END and REPORT of an invocation, once."""
        with self._cond:
            if invocation.reported:
                return
            invocation.reported = True
        if invocation.started is None:  # never reached the function (init failed, process died before /next)
            self._start_line(invocation)
        duration_ms = (time.monotonic() - invocation.started) * 1000 if invocation.started is not None else 0.0
        fields = [f"Duration: {duration_ms:.2f} ms"]
        billed = duration_ms
        init_ms = invocation.init_ms
        if init_ms is not None:
            billed += init_ms  # Lambda bills the INIT phase of on-demand functions too (since August 2025)
        fields.append(f"Billed Duration: {max(1, math.ceil(billed))} ms")
        fields.append(f"Memory Size: {self.spec.memory_mb} MB")
        fields.append(f"Max Memory Used: {self._max_memory_mb()} MB")
        if init_ms is not None:
            fields.append(f"Init Duration: {init_ms:.2f} ms")
        if status is not None:
            fields.append(f"Status: {status}")
        if error_type is not None:
            fields.append(f"Error Type: {error_type}")
        with self._log_lock:
            self._drain()
            self._emit(f"END RequestId: {invocation.request_id}")
            self._emit(f"REPORT RequestId: {invocation.request_id}\t" + "\t".join(fields) + "\t")

    def _start_line(self, invocation: Invocation) -> None:
        if invocation.started is None:
            invocation.started = time.monotonic()
        with self._cond:
            cold, self._cold = self._cold, False
        if cold:
            invocation.init_ms = self._init_ended()
        self._platform(f"START RequestId: {invocation.request_id} Version: $LATEST")

    def _init_ended(self) -> float:
        """Init Duration (ms), fixed the first time init is known to be over: the first /next, an init error, or an
        invocation that ends before it reached the function."""
        if self._init_ms is None:
            self._init_ms = (time.monotonic() - self._started_at) * 1000
        return self._init_ms

    def _max_memory_mb(self) -> int:
        """Peak resident set of the worker process (VmHWM), in MB as Lambda reports it."""
        try:  # one read of the whole file and a search: a third less CPU than a line-by-line file object
            fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 16384)
            finally:
                os.close(fd)
            start = status.index(b"VmHWM:") + 6
            return math.ceil(int(status[start:status.index(b"kB", start)]) / 1024)
        except (OSError, ValueError):
            return 0

    # -- RuntimeEndpoint (called from the Runtime API server's threads) ---------------------------------------------

    def next_invocation(self) -> NextEvent | None:
        self._init_ended()  # init ends with the first /next
        with self._cond:
            self._current = None
            while self._pending is None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            invocation, self._pending = self._pending, None
            self._current = invocation
            invocation.deadline = time.monotonic() + invocation.timeout
        self._start_line(invocation)
        return NextEvent(
            request_id=invocation.request_id,
            payload=invocation.payload,
            deadline_ms=int((time.time() + invocation.timeout) * 1000),
            function_arn=self.spec.arn,
            trace_id=_trace_id(),
        )

    def post_response(self, request_id: str, body: bytes) -> bool:
        invocation = self._take_current(request_id)
        if invocation is None:
            return False
        self._report(invocation)
        if len(body) > MAX_RESPONSE_BYTES:
            invocation.finish(
                error_envelope(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                ),
                "Unhandled",
            )
        else:
            invocation.finish(body, None)
        return True

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        invocation = self._take_current(request_id)
        if invocation is None:
            return False
        self._report(invocation)
        invocation.finish(body or error_envelope(error_type or "Runtime.Unknown", ""), "Unhandled")
        return True

    def post_init_error(self, body: bytes, error_type: str | None) -> None:
        error_type = error_type or "Runtime.Unknown"
        body = body or error_envelope(error_type, "")
        self._platform(f"INIT_REPORT Init Duration: {self._init_ended():.2f} ms\tPhase: init\tStatus: error\t"
                       f"Error Type: {error_type}")
        with self._cond:
            self._dead = True
            self._closed = True
            self._init_error = (body, error_type)
            unfinished = [i for i in (self._pending, self._current) if i is not None and not i.done.is_set()]
            self._pending = self._current = None
            self._cond.notify_all()
        for invocation in unfinished:
            self._report(invocation, status="error", error_type=error_type)
            invocation.finish(body, "Unhandled")

    def _take_current(self, request_id: str) -> Invocation | None:
        with self._cond:
            invocation = self._current
            if invocation is None or invocation.request_id != request_id:
                return None
            self._current = None
            return invocation


def _exit_reason(returncode: int) -> str:
    if returncode >= 0:
        return f"exit status {returncode}"
    return f"signal: {(signal.strsignal(-returncode) or str(-returncode)).lower()}"


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_DEFAULT_SINK: LogRouter | None = None


def _default_sink() -> LogRouter:
    """Workers of a LambdaService built without a sink write to the terminal (stderr)."""
    global _DEFAULT_SINK
    if _DEFAULT_SINK is None:
        _DEFAULT_SINK = LogRouter(Console())
    return _DEFAULT_SINK
