"""The Lambda service (:class:`LambdaService`): Invoke by name or ARN, each function run in its own awslambdaric
worker processes (pool.py, worker.py) fed by our Runtime API, without Docker.

Workers start lazily on a function's first invoke and stay warm. While every warm worker of a function is busy, a new
one starts, up to ``max_concurrency_per_function`` (or the function's ``ReservedConcurrentExecutions`` when lower);
beyond that invocations queue. A function whose reserved concurrency is 0 is throttled: every invoke gets
TooManyRequestsException, as on AWS.

Timeouts are real function time: ``FunctionSpec.timeout`` is enforced in wall-clock seconds, unscaled, because a
handler's own work (boto3 calls, sleeps) runs at real speed whatever the engine's clock does. ``time_scale`` is kept
for callers that later want scaled timeouts; it changes nothing today.
"""
from __future__ import annotations

import atexit
import json
import logging
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable

from local_runtime import errors, threads
from local_runtime.awslambda import exceptions, forkserver
from local_runtime.awslambda.functions import FunctionSpec
from local_runtime.awslambda.interface import InvokeResult
from local_runtime.awslambda.pool import FunctionPool
from local_runtime.awslambda.worker import Invocation, LogSink, Worker, worker_environment

log = logging.getLogger("local_runtime.lambda")

# Invoke quotas: 6 MB (6 MiB) for a synchronous request, 1 MB for an asynchronous one.
MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024
MAX_ASYNC_REQUEST_BYTES = 1024 * 1024
STOP_GRACE_SECONDS = 1.0


def _forkserver(functions: list[FunctionSpec], base_env: dict[str, str], python: str) -> forkserver.ForkServer:
    """Its environment holds what every worker of these functions shares at import time (see forkserver.py)."""
    runtime = functions[0].runtime if functions else "python3.13"
    sample = FunctionSpec(name="forkserver", arn="", handler="", code_dir="", layer_dirs=[], timeout=0,
                          runtime=runtime)
    env = worker_environment(sample, base_env, runtime_api="")
    env.pop("PYTHONPATH", None)
    return forkserver.ForkServer(python, env)


def _concurrency(spec: FunctionSpec, limit: int) -> int:
    return limit if spec.reserved_concurrency is None else min(limit, spec.reserved_concurrency)


class LambdaService:
    """Invoke functions by name or ARN; thread-safe."""

    def __init__(
        self,
        functions: list[FunctionSpec],
        base_env: dict[str, str],
        python: str = sys.executable,
        time_scale: float = 1.0,
        max_concurrency_per_function: int = 8,
        log_sink: LogSink | None = None,
        faults=None,  # local_runtime.awslambda.faults.Faults: injected faults of chaos runs (FAULTS), None otherwise
    ) -> None:
        self.time_scale = time_scale  # not applied: timeouts are real function time (see module docstring)
        self._specs = {spec.name: spec for spec in functions}
        self._base_env = dict(base_env)
        self._python = python
        self._max_concurrency = max_concurrency_per_function
        self._log_sink = log_sink  # None: workers write to the terminal (logs/terminal.py)
        self._forkserver = _forkserver(functions, base_env, python) if forkserver.enabled() else None
        self._pools = {
            spec.name: FunctionPool(spec, dict(base_env), python, _concurrency(spec, max_concurrency_per_function),
                                    worker_factory=self._new_worker, faults=faults)
            for spec in functions
        }
        self._retired: list[forkserver.ForkServer] = []  # replaced by restart_forkserver, stopping
        self._lock = threading.Lock()
        self._invocations: dict[str, int] = {}  # function name -> invocations handed to its workers
        self._background: set[threading.Thread] = set()
        self._started = False
        self._stopped = False
        atexit.register(self.stop)  # workers start on invoke, with or without start(): never leave one behind

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Ready to invoke. Workers (each with its own Runtime API server) start lazily, on first invoke; the fork
        server starts now, so that its imports overlap the rest of the runtime's start-up."""
        with self._lock:
            if self._started:
                return
            self._started = True
        if self._forkserver is not None:
            self._forkserver.start()

    def stop(self) -> None:
        """Kill every worker process group (SIGTERM, then SIGKILL after a grace), stop servers, join threads."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        workers: list[Worker] = []
        for pool in self._pools.values():
            workers.extend(pool.close())
        for worker in workers:
            worker.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in workers:
            if not worker.wait(max(0.0, deadline - time.monotonic())):
                worker.kill()
                worker.wait(5.0)
        joiners = [threading.Thread(target=worker.join, daemon=True) for worker in workers]
        for thread in joiners:
            thread.start()
        for thread in joiners:
            thread.join()
        with self._lock:
            background = list(self._background)
        for thread in background:
            thread.join(timeout=5.0)
        for server in [*self._retired, self._forkserver]:
            if server is not None:
                server.stop()

    def _new_worker(self, spec: FunctionSpec, base_env, python: str) -> Worker:
        """A worker forked by the current fork server (it may have been replaced since the pool was built)."""
        return Worker(spec, base_env, python, forkserver=self._forkserver, log_sink=self._log_sink)

    # -- reloading (reload.py) -------------------------------------------------------------------------------------

    def recycle(self, names: list[str]) -> dict[str, int]:
        """The next invocation of each named function gets a new worker (new code): idle workers are stopped now,
        busy ones once their invocation ends. Returns the warm workers recycled, by function."""
        return {name: self._pools[name].recycle() for name in names if name in self._pools}

    def update_function(self, spec: FunctionSpec) -> int:
        """New configuration (environment, handler, timeout, memory, code or layer directories) for an existing
        function; its workers are recycled. Returns how many."""
        if spec.name not in self._pools:
            raise KeyError(spec.name)
        self._specs[spec.name] = spec
        return self._pools[spec.name].recycle(spec, _concurrency(spec, self._max_concurrency))

    def restart_forkserver(self) -> bool:
        """Replace the fork server (after a change to a library it preloaded) and recycle every worker. The old
        server stops once its last worker has ended, so invocations in progress finish. False without one."""
        old = self._forkserver
        if old is None:
            return False
        new = _forkserver(list(self._specs.values()), self._base_env, self._python)
        new.start()
        self._forkserver = new
        self._retired.append(old)
        for pool in self._pools.values():
            pool.recycle()
        old.retire()
        return True

    # -- API -------------------------------------------------------------------------------------------------------

    @property
    def forkserver_pid(self) -> int | None:
        """The fork server's process once start() ran (None when LAMBDA_FORKSERVER=0)."""
        return self._forkserver.pid if self._forkserver is not None else None

    def invocation_counts(self) -> dict[str, int]:
        """Invocations handed to each function's workers so far (synchronous and asynchronous; not DryRun or
        throttled ones), by function name."""
        with self._lock:
            return dict(sorted(self._invocations.items()))

    def get(self, name_or_arn: str) -> FunctionSpec:
        """The function named by its name, name:$LATEST, partial ARN or ARN; KeyError when unknown."""
        name, qualifier = _parse_function_id(name_or_arn)
        if qualifier not in (None, "$LATEST") or name not in self._specs:
            raise KeyError(name_or_arn)
        return self._specs[name]

    def invoke(self, name_or_arn: str, payload: bytes, invocation_type: str = "RequestResponse",
               on_start: Callable[[], None] | None = None, payload_is_json: bool = False) -> InvokeResult:
        """``on_start()``, when given, is called once a worker takes the invocation (after any wait for a free
        worker): the Step Functions engine starts a task's TimeoutSeconds there. ``payload_is_json``: the caller made
        the payload with a JSON encoder, so its size is checked but it is not parsed again to see that it is JSON."""
        try:
            spec = self.get(name_or_arn)
        except KeyError:
            raise errors.ResourceNotFoundException(f"Function not found: {self._arn_for(name_or_arn)}") from None
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise exceptions.InvalidParameterValueException(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )
        limit = MAX_ASYNC_REQUEST_BYTES if invocation_type == "Event" else MAX_SYNC_REQUEST_BYTES
        payload = _check_payload(payload, limit, parse=not payload_is_json)
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return InvokeResult(payload=b"", function_error=None, request_id=request_id, status_code=204)
        if self._stopped:
            raise exceptions.ServiceException("The Lambda service is stopped")
        if spec.reserved_concurrency == 0:
            raise exceptions.TooManyRequestsException(
                "Rate Exceeded.", reason="ReservedFunctionConcurrentInvocationLimitExceeded")
        invocation = Invocation(request_id=request_id, payload=payload, timeout=float(spec.timeout), on_start=on_start)
        pool = self._pools[spec.name]
        with self._lock:
            self._invocations[spec.name] = self._invocations.get(spec.name, 0) + 1
        if invocation_type == "Event":
            self._run_in_background(pool, invocation)
            return InvokeResult(payload=b"", function_error=None, request_id=request_id, status_code=202)
        pool.run(invocation)
        return InvokeResult(payload=invocation.result, function_error=invocation.function_error, request_id=request_id)

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _run_in_background(self, pool: FunctionPool, invocation: Invocation) -> None:
        def run() -> None:
            try:
                pool.run(invocation)
                if invocation.function_error and not self._stopped:
                    log.warning("%s: asynchronous invoke %s failed: %s", pool.spec.label or pool.spec.name,
                                invocation.request_id, invocation.result.decode("utf-8", errors="replace"))
            except errors.ServiceError:
                pass
            finally:
                with self._lock:
                    self._background.discard(threading.current_thread())
                threads.count_ended()  # a thread per asynchronous invocation: its CPU stays in /_local/stats

        thread = threading.Thread(target=run, name=f"lambda-event-{pool.spec.name}", daemon=True)
        with self._lock:
            self._background.add(thread)
        thread.start()

    def _arn_for(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        region, account = "us-east-1", "123456789012"
        for spec in self._specs.values():
            parts = spec.arn.split(":")
            if len(parts) >= 7:
                region, account = parts[3], parts[4]
                break
        return f"arn:aws:lambda:{region}:{account}:function:{name_or_arn}"


def _parse_function_id(name_or_arn: str) -> tuple[str, str | None]:
    """(name, qualifier) of a FunctionName as Invoke accepts it."""
    parts = name_or_arn.split(":")
    if parts[0] == "arn" and len(parts) in (7, 8):  # arn:aws:lambda:region:account:function:name[:qualifier]
        return parts[6], parts[7] if len(parts) == 8 else None
    if len(parts) in (3, 4) and parts[1] == "function":  # account:function:name[:qualifier]
        return parts[2], parts[3] if len(parts) == 4 else None
    if len(parts) == 2:  # name:qualifier
        return parts[0], parts[1]
    return name_or_arn, None


def _check_payload(payload: bytes, limit: int, parse: bool = True) -> bytes:
    if len(payload) > limit:
        raise exceptions.RequestTooLargeException(
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
        )
    if not payload.strip():
        return b"{}"
    if not parse:
        return payload
    try:
        json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise exceptions.InvalidRequestContentException("Could not parse request body into json") from None
    return payload
