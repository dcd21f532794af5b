"""Ctrl-C stops the runtime even when its output is gone (``make run | tee`` whose tee died with the same Ctrl-C):
writing "stopping" to a closed pipe raised BrokenPipeError before runtime.stop() and left the runtime serving."""
import os
import signal
import subprocess
import sys

from tests.support.local_stack import REPO_ROOT


def test_ctrl_c_stops_the_runtime_when_its_output_pipe_is_closed():
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    process = subprocess.Popen([sys.executable, "-m", "local_runtime", "serve", "--api-port", "0",
                                "--endpoint-port", "0"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for line in process.stdout:  # until the banner: the runtime is up
            if b"DOFS local runtime is ready" in line:
                break
        process.stdout.close()  # the reader is gone: every later write of the runtime fails
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
