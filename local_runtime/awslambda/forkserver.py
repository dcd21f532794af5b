"""Cheap cold starts: Lambda workers forked from a process that has already imported the common libraries.

Starting ``python -m awslambdaric`` costs about 0.8 s of CPU, most of it importing boto3, botocore and Powertools.
The fork server is one more process (``forkserver.main``, started by LambdaService) that imports those
libraries once and then, for each worker, forks a child that becomes an ordinary awslambdaric process: its own
session and process group, the function's environment and working directory, ``PYTHONPATH`` on ``sys.path``, stdout
and stderr on a pipe the runtime reads. The handler module is imported in the child, after the fork, exactly as in a
fresh process; only the preloaded libraries are shared (copy-on-write).

The server imports with the environment every worker of the template shares. A library that reads a variable at
import (Powertools: ``AWS_EXECUTION_ENV``, ``AWS_LAMBDA_INITIALIZATION_TYPE``) would keep the server's value, so a
function whose environment sets one of ``IMPORT_TIME_VARIABLES`` differently is started the plain way
(``subprocess``), as is every worker when ``LAMBDA_FORKSERVER=0`` or once the server has died (its workers are
killed with it). awslambdaric is not preloaded: its native client connects to ``AWS_LAMBDA_RUNTIME_API`` when
imported.

Protocol (a Unix socket pair): the runtime sends one JSON request per worker (``env``, ``cwd``, ``handler``) with the
pipe's write end attached (SCM_RIGHTS); the server answers ``{"pid": n}``, and ``{"exit": n, "code": c}`` when that
child ends (``c`` as ``Popen.returncode``: the exit status, or minus the signal).
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping

# Imported once by the server (not awslambdaric: see the module docstring; it is cheap to import anyway).
PRELOAD = (
    "boto3",
    "boto3.dynamodb.conditions",
    "boto3.dynamodb.types",
    "botocore.session",
    "aws_xray_sdk.core",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.event_handler",
)
# Their service models are parsed once by the server (see _warm_botocore).
WARM_SERVICES = ("dynamodb", "stepfunctions", "events", "sqs", "sns", "lambda", "s3")
# Variables libraries read when imported (Powertools: AWS_EXECUTION_ENV, AWS_LAMBDA_INITIALIZATION_TYPE) or may read
# in a version to come (the rest, on the safe side): a worker is forked only if its values equal the server's.
IMPORT_TIME_VARIABLES = ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_EXECUTION_ENV",
                         "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_XRAY_SDK_ENABLED", "POWERTOOLS_DEV")
_MAX_MESSAGE = 1 << 20


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("LAMBDA_FORKSERVER", "1") not in ("0", "false", "no")


# -- the server process -------------------------------------------------------------------------------------------


def serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the runtime, which stops the workers itself
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a library the functions do not use is simply not preloaded
            pass
    _warm_botocore()
    import gc

    gc.freeze()  # the preloaded objects stay out of the children's collections: fewer copied pages
    children: set[int] = set()
    buffer, fds = b"", []  # a request's line may arrive over several reads; its descriptor comes with the first
    while True:
        readable, _, _ = select.select([sock], [], [], 0.05)
        _reap(sock, children)
        if not readable:
            continue
        data, received, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 1)
        fds.extend(received)
        if not data:
            for pid in children:  # the runtime is gone: so are its workers
                _killpg(pid)
            return
        buffer += data
        while b"\n" in buffer and fds:
            line, buffer = buffer.split(b"\n", 1)
            request, fd = json.loads(line), fds.pop(0)
            pid = os.fork()
            if pid == 0:
                sock.close()
                _become_worker(request, fd)  # never returns
            os.close(fd)
            children.add(pid)
            _send(sock, {"pid": pid})


def _warm_botocore() -> None:
    """Share one botocore loader (botocore_cache.py) and fill it with the models of the services Lambda functions
    usually call, by building clients in a throwaway session with explicit credentials, region and endpoint:
    nothing is resolved from the environment or kept but the loader's parsed files."""
    try:
        import boto3

        from local_runtime.botocore_cache import share_loaders

        share_loaders()
        session = boto3.session.Session(aws_access_key_id="warm", aws_secret_access_key="warm",
                                        region_name="us-east-1")
        for service in WARM_SERVICES:
            session.client(service, endpoint_url="http://127.0.0.1:9")
        session.resource("dynamodb", endpoint_url="http://127.0.0.1:9")
    except Exception:  # noqa: BLE001 - workers then load the models themselves, as without the server
        pass


def _become_worker(request: dict, fd: int) -> None:
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(devnull)
        os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        python_path = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        # as `python -m` in cwd with PYTHONPATH would have it: cwd, PYTHONPATH, then the interpreter's own entries
        # (main() took the server's own directory out)
        sys.path[:] = [request["cwd"], *python_path, *(p for p in sys.path if p not in python_path)]
        sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
        sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
        sys.argv = ["awslambdaric", request["handler"]]
        for name in [m for m in sys.modules if m == "local_runtime" or m.startswith("local_runtime.")]:
            del sys.modules[name]  # the runtime's own package is not the function's to import
        import runpy

        runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported like an uncaught exception of a plain process
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(sock: socket.socket, message: dict) -> None:
    try:
        sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


# -- the runtime's side -------------------------------------------------------------------------------------------


class ForkedProcess:
    """A worker forked by the server: the part of ``subprocess.Popen`` that Worker uses."""

    def __init__(self, pid: int, stdout) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _set_exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
        return self.returncode  # type: ignore[return-value]


class ForkServer:
    """Starts the server process on first use; thread-safe. ``spawn`` returns None when it cannot fork a worker."""

    def __init__(self, python: str, environ: Mapping[str, str]) -> None:
        self._python = python
        self._environ = dict(environ)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a worker ends and when the server is gone
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._replies: list[threading.Event] = []
        self._pids: list[int] = []
        self._processes: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}  # children that ended before spawn() registered them
        self._broken = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def can_fork(self, env: Mapping[str, str]) -> bool:
        return not self._broken and all(env.get(k) == self._environ.get(k) for k in IMPORT_TIME_VARIABLES)

    def spawn(self, handler: str, env: Mapping[str, str], cwd: str) -> ForkedProcess | None:
        if not self.can_fork(env):
            return None
        read_fd, write_fd = os.pipe()
        try:
            with self._lock:
                if not self._start():
                    return None
                request = json.dumps({"handler": handler, "env": dict(env), "cwd": cwd}).encode() + b"\n"
                try:
                    socket.send_fds(self._sock, [request], [write_fd])
                except OSError:
                    self._broken = True
                    return None
                pid = self._next_pid()
                if pid is None:
                    return None
                process = ForkedProcess(pid, os.fdopen(read_fd, "rb"))
                read_fd = -1
                if pid in self._early_exits:
                    process._set_exit(self._early_exits.pop(pid))  # noqa: SLF001
                else:
                    self._processes[pid] = process
                return process
        finally:
            os.close(write_fd)
            if read_fd >= 0:
                os.close(read_fd)

    def start(self) -> None:
        """Start the server now (it preloads while the runtime finishes starting); spawn() would otherwise."""
        with self._lock:
            self._start()

    def retire(self) -> None:
        """Fork nothing more; stop once every worker forked so far has ended (a restart: LambdaService)."""
        with self._lock:
            self._broken = True

        def idle() -> bool:  # no worker left, or the server is gone (the reader then notifies too)
            return not self._processes or self._proc is None or self._proc.poll() is not None

        def stop_when_idle() -> None:
            with self._idle:
                self._idle.wait_for(idle)
            self.stop()

        threading.Thread(target=stop_when_idle, name="lambda-forkserver-retire", daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._broken = True
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if self._proc is not None:
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(5)  # outside the lock: the reader takes it once more on its way out

    # -- helpers (called with the lock held) -----------------------------------------------------------------------

    def _start(self) -> bool:
        if self._broken:
            return False
        if self._proc is not None:
            return True
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = subprocess.Popen(
                [self._python, "-c", "from local_runtime.awslambda.forkserver import main; main()",
                 str(theirs.fileno())],
                env=self._environ, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
            )
        except OSError:
            self._broken = True
            ours.close()
            return False
        finally:
            theirs.close()
        self._sock = ours
        self._reader = threading.Thread(target=self._read, name="lambda-forkserver", daemon=True)
        self._reader.start()
        return True

    def _next_pid(self) -> int | None:
        event = threading.Event()
        self._replies.append(event)
        self._lock.release()
        try:
            answered = event.wait(30)
        finally:
            self._lock.acquire()
        if not answered or not self._pids:
            self._broken = True
            return None
        return self._pids.pop(0)

    def _read(self) -> None:
        buffer = b""
        sock = self._sock
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                with self._lock:
                    if "pid" in message:
                        self._pids.append(message["pid"])
                        self._replies.pop(0).set()
                    else:
                        process = self._processes.pop(message["exit"], None)
                        if process is not None:
                            process._set_exit(message["code"])  # noqa: SLF001
                            self._idle.notify_all()
                        else:
                            self._early_exits[message["exit"]] = message["code"]
        with self._lock:  # the server is gone: its children were killed with it (see serve)
            self._broken = True
            for event in self._replies:
                event.set()
            for process in self._processes.values():
                _killpg(process.pid)
                process._set_exit(-signal.SIGKILL)  # noqa: SLF001
            self._processes.clear()
            self._idle.notify_all()


def main() -> None:
    # argv[1]: the inherited socket's file descriptor; cwd is the repository root, which workers must not see
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.getcwd()]
    serve(socket.socket(fileno=int(sys.argv[1])))
