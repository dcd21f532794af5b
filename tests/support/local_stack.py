"""Start the local runtime the way a user does (``python -m local_runtime serve``) and drive it over loopback.

Each instance is its own process on ephemeral ports, so tests with different parameters can run side by side.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.orders import CLIENT_KEY, Api

REPO_ROOT = Path(__file__).resolve().parents[2]


class LocalStack:
    def __init__(self, overrides: dict[str, str] | None = None, time_scale: float = 1.0,
                 extra_env: dict[str, str] | None = None) -> None:
        self.overrides = overrides or {}
        self.time_scale = time_scale
        self._dir = tempfile.TemporaryDirectory(prefix="dofs-local-")
        self.ready_file = Path(self._dir.name) / "ready.json"
        self.log_path = Path(self._dir.name) / "runtime.log"
        env = {
            **os.environ,
            "PARAMETER_OVERRIDES": " ".join(f"{k}={v}" for k, v in self.overrides.items()),
            "TIME_SCALE": str(time_scale),
            **(extra_env or {}),
        }
        env.pop("AWS_ENDPOINT_URL", None)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime", "serve", "--api-port", "0", "--endpoint-port", "0",
             "--ready-file", str(self.ready_file)],
            cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_ready(timeout=90)
        info = json.loads(self.ready_file.read_text())
        self.endpoint: str = info["endpoint"]
        self.api_server: str = info["api"]  # http://127.0.0.1:<port>, without the stage
        self.outputs: dict = info["outputs"]
        self.api_keys: dict[str, str] = info["apiKeys"]  # logical id -> value
        self._clients: dict = {}

    def api(self, key: str = CLIENT_KEY) -> Api:
        """The orders API called with the template's API key ``key`` (a logical id; None sends no key)."""
        return Api(self.outputs["ApiUrl"], self.api_keys[key] if key else None)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists() and self.ready_file.stat().st_size:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"local runtime exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"local runtime not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 1}, max_pool_connections=50, inject_host_prefix=False),
            )
        return self._clients[service]

    def table(self, output_key: str):
        resource = boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        return resource.Table(self.outputs[output_key])

    def interrupt(self) -> None:
        """Ctrl-C without waiting; stop() then waits for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def stop(self) -> int:
        """Ctrl-C, as a user stops ``make run``; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def cleanup(self) -> None:
        self.stop()
        self._dir.cleanup()
