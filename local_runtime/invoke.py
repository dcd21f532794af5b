"""``make invoke FN=<logical id> EVENT=<file>``: one function, or one state machine, with an event file.

A function is invoked (RequestResponse) and its response printed, as ``sam local invoke`` does. A state machine is
started with the file as its input: an Express one with StartSyncExecution, a Standard one with StartExecution,
then followed until it ends or ``wait`` seconds pass (an execution waiting for an approval stays RUNNING: then the
state it waits in is printed). The result is the DescribeExecution fields that matter, as JSON.

Both go through the AWS-compatible endpoint: the running ``make run`` when there is one, else a private runtime
started for the call. An unknown FN fails at once with the template's functions and state machines: the template
is only parsed (no translation, no runtime) to check it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
POLL_SECONDS = 0.05


class UnknownTarget(ValueError):
    pass


def template_targets(template: str | Path) -> dict[str, list[str]]:
    """{"functions": [logical ids], "state machines": [logical ids]} of a template, read without translating it."""
    from samtranslator.yaml_helper import yaml_parse

    resources = (yaml_parse(Path(template).read_text()) or {}).get("Resources") or {}
    return {
        "functions": [lid for lid, r in resources.items() if r.get("Type") in FUNCTION_TYPES],
        "state machines": [lid for lid, r in resources.items() if r.get("Type") in STATE_MACHINE_TYPES],
    }


def check_target(template: str | Path, target: str) -> None:
    """UnknownTarget (with the template's choices) unless ``target`` names a function or state machine (a logical
    id; a physical name is checked later, against the resolved stack)."""
    targets = template_targets(template)
    if target in targets["functions"] or target in targets["state machines"]:
        return
    if "-" in target or target.startswith("arn:"):  # not a logical id (letters and digits): maybe a physical name
        return
    raise UnknownTarget(f"unknown function {target!r}. Functions of {Path(template).name}: "
                        f"{', '.join(targets['functions'])}. State machines: {', '.join(targets['state machines'])}")


@dataclass
class Outcome:
    text: str  # what to print: the function's response, or the execution as JSON
    failed: bool  # a function error, or an execution that ended other than SUCCEEDED
    detail: str = ""  # FunctionError / the execution's status, for the message on stderr


def resolve(stack: Any, target: str) -> tuple[str, str]:
    """("function", name) or ("state machine", ARN) of a logical id or physical name of ``stack``."""
    resource = stack.resources.get(target)
    if resource is not None and resource.type == "AWS::Lambda::Function":
        return "function", resource.physical_id
    if resource is not None and resource.type == "AWS::StepFunctions::StateMachine":
        return "state machine", resource.physical_id
    for resource in stack.of_type("AWS::Lambda::Function"):
        if target in (resource.physical_id, resource.attributes.get("Arn")):
            return "function", resource.physical_id
    for resource in stack.of_type("AWS::StepFunctions::StateMachine"):
        if target in (resource.physical_id, resource.attributes.get("Name")):
            return "state machine", resource.physical_id
    functions = [r.logical_id for r in stack.of_type("AWS::Lambda::Function")]
    machines = [r.logical_id for r in stack.of_type("AWS::StepFunctions::StateMachine")]
    raise UnknownTarget(f"unknown function {target!r}. Functions: {', '.join(functions)}. "
                        f"State machines: {', '.join(machines)}")


def clients(endpoint_url: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(inject_host_prefix=False, retries={"max_attempts": 1}, read_timeout=900)
    return {service: boto3.client(service, endpoint_url=endpoint_url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
            for service in ("lambda", "stepfunctions")}


def call(endpoint_url: str, stack: Any, target: str, payload: bytes, wait: float = 10.0,
         client: dict[str, Any] | None = None) -> Outcome:
    """Invoke ``target`` (see the module docstring) through the endpoint at ``endpoint_url``."""
    kind, physical = resolve(stack, target)
    client = client or clients(endpoint_url)
    if kind == "function":
        response = client["lambda"].invoke(FunctionName=physical, Payload=payload)
        error = response.get("FunctionError")
        return Outcome(response["Payload"].read().decode(), bool(error), error or "")
    return run_execution(client["stepfunctions"], physical, payload.decode() or "{}", wait)


def run_execution(sfn: Any, state_machine_arn: str, input_text: str, wait: float) -> Outcome:
    machine = sfn.describe_state_machine(stateMachineArn=state_machine_arn)
    if machine["type"] == "EXPRESS":
        described = sfn.start_sync_execution(stateMachineArn=state_machine_arn, input=input_text)
    else:
        arn = sfn.start_execution(stateMachineArn=state_machine_arn, input=input_text)["executionArn"]
        deadline = time.monotonic() + wait
        while True:
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
    result = execution_result(described)
    if result["status"] == "RUNNING":
        result["state"] = current_state(sfn, result["executionArn"])
    return Outcome(json.dumps(result), result["status"] not in ("SUCCEEDED", "RUNNING"), result["status"])


def execution_result(described: dict) -> dict:
    result: dict[str, Any] = {"executionArn": described["executionArn"], "status": described["status"]}
    if described.get("output") is not None:
        result["output"] = json.loads(described["output"])
    for key in ("error", "cause"):
        if described.get(key):
            result[key] = described[key]
    return result


def current_state(sfn: Any, execution_arn: str) -> str | None:
    """The state a running execution last entered."""
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=100)["events"]
    for event in events:
        if event["type"].endswith("StateEntered"):
            return event["stateEnteredEventDetails"]["name"]
    return None
