"""Drivers that run a definition on one engine, in this process, at the same level for both engines.

* ``OurEngine``: ``StepFunctionsService.handle('StartExecution', ...)`` (validation, the engine's scheduler, as the
  local runtime does); completion is the execution's done event.
* ``MotoEngine``: moto's Step Functions backend ``start_execution`` under ``mock_aws`` with
  ``execute_state_machine`` (moto's own thread per execution); completion is polled every 0.5 ms.

Neither goes through botocore or HTTP: the comparison is engine against engine. State machines are created once,
through each engine's API; execution names are unique.
"""
from __future__ import annotations

import itertools
import json
import logging
import time
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/bench"
ACCOUNT = "123456789012"
REGION = "us-east-1"


class EngineDriver:
    label = "engine"

    def create(self, name: str, definition: dict) -> str:
        raise NotImplementedError

    def start(self, machine_arn: str, input_text: str) -> Any:
        raise NotImplementedError

    def wait(self, handle: Any, timeout: float = 300.0) -> None:
        raise NotImplementedError

    def result(self, handle: Any) -> dict:
        """{"status", "output" (parsed), "error", "cause"} of a finished execution."""
        raise NotImplementedError

    def state_types(self, handle: Any) -> list[str]:
        """History event types of a finished execution."""
        raise NotImplementedError

    def run(self, machine_arn: str, input_text: str) -> Any:
        handle = self.start(machine_arn, input_text)
        self.wait(handle)
        return handle

    def close(self) -> None:
        pass


def summary(status: str, output_text: str | None, error: str | None, cause: str | None) -> dict:
    out: dict = {"status": status}
    if output_text is not None:
        out["output"] = json.loads(output_text)
    if error:
        out["error"] = error
    if cause:
        out["cause"] = cause
    return out


class OurEngine(EngineDriver):
    label = "ours"

    def __init__(self) -> None:
        from local_runtime.stepfunctions import Engine, Integrations, RealClock, StepFunctionsService

        self.service = StepFunctionsService(Engine(RealClock(), Integrations()), region=REGION, account_id=ACCOUNT)
        self._names = itertools.count()

    def create(self, name: str, definition: dict) -> str:
        return self.service.handle("CreateStateMachine", {"name": name, "definition": json.dumps(definition),
                                                          "roleArn": ROLE})["stateMachineArn"]

    def start(self, machine_arn: str, input_text: str) -> str:
        return self.service.handle("StartExecution", {"stateMachineArn": machine_arn, "input": input_text,
                                                      "name": f"x{next(self._names)}"})["executionArn"]

    def wait(self, handle: str, timeout: float = 300.0) -> None:
        if not self.service.engine.executions[handle].done.wait(timeout):
            raise TimeoutError(f"execution still running after {timeout} s: {handle}")

    def run_sync(self, machine_arn: str, input_text: str) -> str:
        """The whole execution in the calling thread (no thread per execution): single-core throughput."""
        machine = self.service.machines[machine_arn]
        name = f"s{next(self._names)}"
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine.name}:{name}"
        self.service.engine.run_sync(machine.program, arn=arn, name=name, state_machine_arn=machine_arn,
                                     state_machine_name=machine.name, input_text=input_text, role_arn=ROLE)
        return arn

    def result(self, handle: str) -> dict:
        d = self.service.handle("DescribeExecution", {"executionArn": handle})
        return summary(d["status"], d.get("output"), d.get("error"), d.get("cause"))

    def state_types(self, handle: str) -> list[str]:
        return self.service.engine.executions[handle].history.types()

    def forget(self) -> None:
        """Drop finished executions (both engines keep them; the memory pass starts from a clean slate)."""
        engine = self.service.engine
        for arn in [a for a, e in engine.executions.items() if e.done.is_set()]:
            engine.executions.pop(arn, None)
            self.service._execution_machine.pop(arn, None)
        for machine in self.service.machines.values():
            machine.executions.clear()


class MotoEngine(EngineDriver):
    label = "moto"

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        for name in ("moto", "moto.stepfunctions"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        self._client = boto3.client("stepfunctions", region_name=REGION, aws_access_key_id="testing",
                                    aws_secret_access_key="testing")
        self.backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        self._names = itertools.count()

    def create(self, name: str, definition: dict) -> str:
        return self._client.create_state_machine(name=name, definition=json.dumps(definition),
                                                 roleArn=ROLE)["stateMachineArn"]

    def start(self, machine_arn: str, input_text: str) -> Any:
        return self.backend.start_execution(machine_arn, name=f"x{next(self._names)}", execution_input=input_text)

    def wait(self, handle: Any, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while handle.status == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto execution still running after {timeout} s: {handle.exec_arn}")
            time.sleep(0.0005)
        # moto sets SUCCEEDED a moment before it stores the output: wait for it (a null output gives up after 1 s)
        settle = time.monotonic() + 1.0
        while handle.status == "SUCCEEDED" and handle.output is None and time.monotonic() < settle:
            time.sleep(0.0005)

    def result(self, handle: Any) -> dict:
        d = handle.to_describe_output()
        status = d["status"]
        return summary(getattr(status, "value", status), d.get("output"), d.get("error"), d.get("cause"))

    def state_types(self, handle: Any) -> list[str]:
        return [str(e["type"]) for e in handle.to_history_output()["events"]]

    def forget(self) -> None:
        for machine in self.backend.state_machines:
            machine.executions.clear()

    def close(self) -> None:
        self._mock.stop()


def transitions(types: list[str]) -> int:
    """State transitions of one execution: states entered (inside Parallel branches and Map iterations too)."""
    return sum(1 for t in types if t.endswith("StateEntered"))
