"""One execution environment: an awslambdaric process, its Runtime API server and its log pump.

A worker runs one invocation at a time. It ends an invocation with the function's response, the error the runtime
posted, its init error, a crash (``Runtime.ExitError``) or a timeout (``Sandbox.Timedout``, the process group is
killed). A worker that crashed, failed to initialise or timed out is dead and never reused.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from local_runtime.lambda_runtime.runtime_api import NextEvent, RuntimeApiServer

if TYPE_CHECKING:
    from local_runtime.lambda_runtime import FunctionSpec
    from local_runtime.lambda_runtime.forkserver import ForkedProcess, ForkServer

# Lambda accepts 6,291,556 bytes of response (the documented "6 MB" quota, as its error message states).
MAX_RESPONSE_BYTES = 6_291_556
# On-demand init may take this long before the invocation itself starts; Lambda's Init phase limit.
INIT_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.1
_LOG_LOCK = threading.Lock()


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
    if returncode >= 0:
        reason = f"exit status {returncode}"
    else:
        reason = f"signal: {(signal.strsignal(-returncode) or str(-returncode)).lower()}"
    return error_envelope("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {reason}")


def _forward_log(prefix: str, line: bytes) -> None:
    # awslambdaric joins a record's lines with \r (one CloudWatch event); show them as indented lines.
    text = line.decode("utf-8", errors="replace").rstrip("\r\n").replace("\r", "\n    ") + "\n"
    stream = sys.stderr
    with _LOG_LOCK:
        try:
            stream.write(prefix + text)
            stream.flush()
        except (OSError, ValueError):
            pass


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
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


class Worker:
    """An awslambdaric process for one function, started with start(), ended with kill() or stop()."""

    def __init__(self, spec: FunctionSpec, base_env: Mapping[str, str], python: str,
                 forkserver: ForkServer | None = None) -> None:
        self.spec = spec
        self._forkserver = forkserver
        self._base_env = base_env
        self._python = python
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._current: Invocation | None = None
        self._closed = False  # no more invocations: long polls answer 410
        self._dead = False  # process gone, killed or failed to initialise
        self._server = RuntimeApiServer(self)
        self._proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self._pump: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._server.start(self.spec.name)
        env = worker_environment(self.spec, self._base_env, self._server.address)
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
            if self._closed or self._dead:
                invocation.finish(exit_envelope(invocation.request_id, self._returncode()), "Unhandled")
                return
            self._pending = invocation
            self._cond.notify_all()
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
            for invocation in (self._pending, self._current):
                if invocation is not None:
                    invocation.finish(exit_envelope(invocation.request_id, returncode), "Unhandled")
            self._pending = self._current = None
            self._cond.notify_all()

    def _pump_logs(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        prefix = f"[{self.spec.name}] "
        for line in self._proc.stdout:
            _forward_log(prefix, line)
        self._proc.stdout.close()
        self._on_exit(self._proc.wait())

    # -- RuntimeEndpoint (called from the Runtime API server's threads) ---------------------------------------------

    def next_invocation(self) -> NextEvent | None:
        with self._cond:
            self._current = None
            while self._pending is None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            invocation, self._pending = self._pending, None
            self._current = invocation
            invocation.deadline = time.monotonic() + invocation.timeout
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
        invocation.finish(body or error_envelope(error_type or "Runtime.Unknown", ""), "Unhandled")
        return True

    def post_init_error(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            self._dead = True
            self._closed = True
            for invocation in (self._pending, self._current):
                if invocation is not None:
                    invocation.finish(body or error_envelope(error_type or "Runtime.Unknown", ""), "Unhandled")
            self._pending = self._current = None
            self._cond.notify_all()

    def _take_current(self, request_id: str) -> Invocation | None:
        with self._cond:
            invocation = self._current
            if invocation is None or invocation.request_id != request_id:
                return None
            self._current = None
            return invocation
