"""What ``GET /_local/stats`` reports of the endpoint's requests: how many, by caller and operation."""
from __future__ import annotations

import re
import threading

from local_runtime.awslambda.responses import INVOKE_PATH
from local_runtime.protocols import signing_service

CONSOLE_AGENT = "dofs-console"  # in the User-Agent of the console's calls (local_runtime/console)
IN_PROCESS_KEY = "dofs.in_process"  # set in the environ of the runtime's own calls (gateway/inprocess.py)
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
            by_operation[operation] = by_operation.get(operation, 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {caller: dict(sorted(ops.items())) for caller, ops in sorted(self._counts.items())}
