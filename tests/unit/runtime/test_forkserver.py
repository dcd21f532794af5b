"""ForkServer.retire (local_runtime/awslambda/forkserver.py): a replaced fork server stops once its last worker has
ended, or at once when the server process is gone. The server process is faked: the reader thread reads the exit
messages the test writes to its socket."""
from __future__ import annotations

import json
import signal
import socket
import threading
import time

from local_runtime.awslambda.forkserver import ForkedProcess, ForkServer

NO_SUCH_PID = 1 << 30  # above any pid_max: killing its process group (server gone) finds nothing


class RunningServerProcess:
    pid = NO_SUCH_PID

    def poll(self) -> None:
        return None


class Retiring:
    """A ForkServer whose process is faked and whose ``stop`` records how many workers were left when it came."""

    def __init__(self, pids: list[int]) -> None:
        self.server = ForkServer("python", {})
        self.peer, self.server._sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)  # noqa: SLF001
        self.server._proc = RunningServerProcess()  # noqa: SLF001
        self.workers = {pid: ForkedProcess(pid, None) for pid in pids}
        self.server._processes.update(self.workers)  # noqa: SLF001
        self.stopped = threading.Event()
        self.left_at_stop: list[int] = []
        self.server.stop = self._stop
        self.reader = threading.Thread(target=self.server._read, daemon=True)  # noqa: SLF001
        self.reader.start()

    def _stop(self) -> None:
        self.left_at_stop.append(len(self.server._processes))  # noqa: SLF001
        self.stopped.set()

    def exit(self, pid: int, code: int) -> None:
        self.peer.sendall(json.dumps({"exit": pid, "code": code}).encode() + b"\n")

    def close(self) -> None:
        self.peer.close()
        self.reader.join(5)


def test_retire_stops_the_server_when_its_last_worker_ends(monkeypatch):
    slept: list[float] = []
    sleep = time.sleep

    def recorded_sleep(seconds: float) -> None:
        if threading.current_thread().name == "lambda-forkserver-retire":
            slept.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", recorded_sleep)
    retiring = Retiring([NO_SUCH_PID + 1, NO_SUCH_PID + 2])
    try:
        retiring.server.retire()
        retiring.exit(NO_SUCH_PID + 1, 0)
        assert retiring.workers[NO_SUCH_PID + 1].wait(5) == 0
        assert not retiring.stopped.is_set()  # one worker is still running
        retiring.exit(NO_SUCH_PID + 2, -9)
        assert retiring.stopped.wait(5)
        assert (retiring.left_at_stop, retiring.workers[NO_SUCH_PID + 2].returncode) == ([0], -9)
        assert slept == []  # woken by the exits, not polling
    finally:
        retiring.close()


def test_retire_stops_at_once_when_the_server_is_gone():
    retiring = Retiring([NO_SUCH_PID + 1])
    retiring.server.retire()
    retiring.close()  # the server's end of the socket closes: the reader ends its workers
    assert retiring.stopped.wait(5)
    assert (retiring.left_at_stop, retiring.workers[NO_SUCH_PID + 1].returncode) == ([0], -signal.SIGKILL)


def test_retire_without_workers_stops_at_once():
    retiring = Retiring([])
    try:
        retiring.server.retire()
        assert retiring.stopped.wait(5)
        assert retiring.left_at_stop == [0]
    finally:
        retiring.close()
