"""What ``GET /_local/stats`` reports of the endpoint's requests: how many, and the CPU spent serving them, by caller
and operation."""
from __future__ import annotations

import re
import threading
import time

from local_runtime.awslambda.responses import INVOKE_PATH
from local_runtime.protocols import signing_service

CONSOLE_AGENT = "dofs-console"  # in the User-Agent of the console's calls (local_runtime/console)
IN_PROCESS_KEY = "dofs.in_process"  # set in the environ of the runtime's own calls (gateway/inprocess.py)
MAX_OPERATIONS = 500  # distinct operations counted per caller; the next ones are counted together
MORE_OPERATIONS = "(more operations)"
_FORM_ACTION = re.compile(rb"(?:^|&)Action=(?P<action>[A-Za-z0-9]+)")


class RequestCounts:
    """The requests the endpoint served, by caller and operation (what ``GET /_local/stats`` reports).

    caller: ``console`` (the console's calls, local_runtime/console), ``runtime`` (the runtime's own calls: the
    engine's service tasks, event-source pollers, targets),
    ``lambda`` (a Lambda worker: botocore puts the function's ``AWS_EXECUTION_ENV`` in its User-Agent) or
    ``other`` (users, tests, the AWS CLI). operation: the ``X-Amz-Target`` (``DynamoDB_20120810.GetItem``),
    ``Lambda.Invoke``, ``<service>.<Action>`` for form-encoded calls (SNS), else ``<service> <METHOD> /<first path
    segment>[/...]``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}
        self.cpu = CpuMeter()

    @staticmethod
    def caller(environ: dict) -> str:
        if CONSOLE_AGENT in environ.get("HTTP_USER_AGENT", ""):
            return "console"
        if environ.get(IN_PROCESS_KEY):
            return "runtime"
        return "lambda" if "exec-env/AWS_Lambda_" in environ.get("HTTP_USER_AGENT", "") else "other"

    @staticmethod
    def operation(environ: dict, body: bytes | None = None) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target
        path = environ.get("PATH_INFO", "")
        if INVOKE_PATH.match(path):
            return "Lambda.Invoke"
        service = signing_service(environ) or "unsigned"
        action = _FORM_ACTION.search(body) if body else None
        if action:
            return f"{service}.{action.group('action').decode()}"
        head, _, rest = path.lstrip("/").partition("/")  # the first segment only: ids and keys would not end
        return f"{service} {environ.get('REQUEST_METHOD', '')} /{head}{'/...' if rest else ''}"

    def add(self, environ: dict, body: bytes | None = None) -> None:
        caller, operation = self.caller(environ), self.operation(environ, body)
        with self._lock:
            by_operation = self._counts.setdefault(caller, {})
            if operation not in by_operation and len(by_operation) >= MAX_OPERATIONS:
                operation = MORE_OPERATIONS  # the name comes from the request: a client cannot grow the table
            by_operation[operation] = by_operation.get(operation, 0) + 1
        self.cpu.label(caller, operation)

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {caller: dict(sorted(ops.items())) for caller, ops in sorted(self._counts.items())}


def meter_of(app: object) -> "CpuMeter | None":
    """The CpuMeter of a WSGI application (the Gateway's ``requests.cpu``), or None: what the HTTP server
    (server.py) and the in-process session (inprocess.py) meter each request with."""
    return getattr(getattr(app, "requests", None), "cpu", None)


UNLABELLED = ("endpoint", "(no AWS request)")  # local routes, the console's pages, a connection closed by its client


class CpuMeter:
    """CPU time of the serving thread per request (``time.thread_time``), by caller and operation: what
    ``GET /_local/stats`` reports as ``cpuMs``.

    A request is metered from :meth:`begin` to :meth:`end` on the thread that serves it: the HTTP server's thread for
    a request from outside the process (its HTTP parsing and response writing included, gateway/server.py), the
    calling thread for the runtime's own in-process calls (routing and moto's answer; botocore's client side is not
    a request's, gateway/inprocess.py). :meth:`RequestCounts.add` names the request being metered. A request served
    inside another one on the same thread (an SNS publish that delivers to a queue, in process) is charged to its
    own operation and left out of the outer one's. CPU only: a thread waiting for the GIL or for a socket uses none.
    Work a request hands to another thread (an execution's steps on the engine's scheduler, a Lambda invocation) is
    that thread's, not the request's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, dict[str, float]] = {}
        self._local = threading.local()

    def _frames(self) -> list:
        frames = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    def begin(self) -> None:
        self._frames().append([None, 0.0, time.thread_time()])

    def label(self, caller: str, operation: str) -> None:
        frames = getattr(self._local, "frames", None)
        if frames and frames[-1][0] is None:
            frames[-1][0] = (caller, operation)

    def end(self) -> None:
        frames = self._frames()
        if not frames:
            return
        label, inner, started = frames.pop()
        spent = time.thread_time() - started
        if frames:
            frames[-1][1] += spent
        caller, operation = label or UNLABELLED
        with self._lock:
            by_operation = self._seconds.setdefault(caller, {})
            by_operation[operation] = by_operation.get(operation, 0.0) + max(0.0, spent - inner)

    def snapshot_ms(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {caller: {operation: round(seconds * 1000, 3) for operation, seconds in sorted(ops.items())}
                    for caller, ops in sorted(self._seconds.items())}

