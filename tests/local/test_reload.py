"""Hot reload on a running local runtime, as a developer sees it: the runtime serves a copy of
tests/local/reload_fixture/ (TEMPLATE=<copy>/template.yaml, WATCH=1), the test edits the copy's files, and the next
invocations and executions run the new code. Each wait polls for the outcome (tests/support/polling.py); nothing in
the repository is edited."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.local_stack import LocalStack
from tests.support.polling import wait_until

FIXTURE = Path(__file__).parent / "reload_fixture"
# generous: the runtime applies a save about 0.1 s after it (make bench / the README's figure), a busy host slows it
RELOADED_WITHIN = 20.0


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("reload") / "app"
    shutil.copytree(FIXTURE, root)
    stack = LocalStack(time_scale=1.0, extra_env={"TEMPLATE": str(root / "template.yaml"), "SAMPLE_DATA": "",
                                                  "WATCH": "1"})
    yield root, stack
    stack.cleanup()


def edit(path: Path, old: str, new: str) -> None:
    """Save a change the way editors do: write a new file, then rename it over the old one."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_text(text.replace(old, new))
    os.replace(temporary, path)


def invoke(stack: LocalStack, name: str, event: dict | None = None) -> dict:
    response = stack.client("lambda").invoke(FunctionName=f"dofs-{name}", Payload=json.dumps(event or {}))
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_a_handler_change_reaches_the_next_invocation_of_that_function_only(app):
    root, stack = app
    before = invoke(stack, "GreeterFunction")
    other = invoke(stack, "OtherFunction")["pid"]
    assert (before["version"], before["greeting"]) == (1, "hello!")

    edit(root / "greeter" / "app.py", "VERSION = 1", "VERSION = 2")  # same size: a stale .pyc would still match

    after = wait_until(lambda: invoke(stack, "GreeterFunction"), RELOADED_WITHIN,
                       lambda seen: f"still the old code: {seen}\n{stack.log()}", accept=lambda r: r["version"] == 2)
    assert after["pid"] != before["pid"]  # a new worker
    assert invoke(stack, "OtherFunction")["pid"] == other  # another function keeps its warm worker
    wait_until(stack.log, RELOADED_WITHIN, lambda log: f"no reload message:\n{log}",
               accept=lambda log: "reload: GreeterFunction: greeter/app.py changed; 1 warm worker recycled" in log)


def test_a_layer_change_reaches_the_functions_of_the_layer(app):
    root, stack = app
    other = invoke(stack, "OtherFunction")["pid"]
    edit(root / "layer" / "shared_lib.py", 'return "!"', 'return "?"')
    wait_until(lambda: invoke(stack, "GreeterFunction"), RELOADED_WITHIN,
               lambda seen: f"still the old layer: {seen}\n{stack.log()}", accept=lambda r: r["greeting"] == "hello?")
    assert invoke(stack, "OtherFunction")["pid"] == other  # not a function of the layer


def test_a_definition_change_is_used_by_new_executions_and_not_by_running_ones(app):
    root, stack = app
    sfn = stack.client("stepfunctions")
    arn = stack.outputs["GreetingStateMachineArn"]
    # GIVEN an execution of definition 1 that waits for its task token
    running = sfn.start_execution(stateMachineArn=arn, name="started-before", input='{"wait": true}')["executionArn"]
    token = wait_until(lambda: _task_token(sfn, running), RELOADED_WITHIN, "the execution never asked for a token")

    # WHEN the definition file is saved with another result
    edit(root / "statemachine" / "greeting.asl.json", '"Result": {"definition": 1}', '"Result": {"definition": 2}')

    # THEN the state machine is updated (as UpdateStateMachine), new executions run definition 2 ...
    wait_until(lambda: json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]), RELOADED_WITHIN,
               lambda seen: f"not updated: {stack.log()}", accept=lambda d: d["States"]["Shape"]["Result"] == {
                   "definition": 2})
    started = sfn.start_execution(stateMachineArn=arn, name="started-after", input='{"wait": false}')["executionArn"]
    assert json.loads(_finished(sfn, started)["output"]) == {"definition": 2}
    # ... and the execution that was running when it changed finishes on definition 1
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output="{}")
    assert json.loads(_finished(sfn, running)["output"]) == {"definition": 1}


def test_an_invalid_definition_is_reported_and_the_state_machine_keeps_its_own(app):
    root, stack = app
    sfn = stack.client("stepfunctions")
    arn = stack.outputs["GreetingStateMachineArn"]
    before = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    edit(root / "statemachine" / "greeting.asl.json", '"Next": "Shape"\n    },\n    "Shape"',
         '"Next": "Nowhere"\n    },\n    "Shape"')
    wait_until(stack.log, RELOADED_WITHIN, lambda log: f"no report of the invalid definition:\n{log}",
               accept=lambda log: "statemachine/greeting.asl.json is invalid (InvalidDefinition: " in log)
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == before
    line = next(line for line in stack.log().splitlines() if "greeting.asl.json is invalid" in line)
    assert "Nowhere" in line and line.rstrip().endswith("s after the save)")


def test_a_template_change_is_applied_live_or_named_for_a_restart(app):
    root, stack = app
    template = root / "template.yaml"
    # an environment variable: applied live
    edit(template, "GREETING: hello", "GREETING: howdy")
    wait_until(lambda: invoke(stack, "GreeterFunction"), RELOADED_WITHIN,
               lambda seen: f"old environment: {seen}\n{stack.log()}", accept=lambda r: r["greeting"].startswith("howdy"))
    # a new queue: the runtime says what it cannot apply without a restart
    edit(template, "\nOutputs:\n", "\n  ExtraQueue:\n    Type: AWS::SQS::Queue\n\nOutputs:\n")
    health = wait_until(lambda: _health(stack), RELOADED_WITHIN, lambda seen: f"not reported: {seen}\n{stack.log()}",
                        accept=lambda h: "restartNeeded" in h)
    assert health["restartNeeded"] == ["ExtraQueue"]
    wait_until(stack.log, RELOADED_WITHIN, lambda log: f"no restart message:\n{log}",
               accept=lambda log: "template.yaml changed: restart make run to apply: ExtraQueue (added)" in log)


def _task_token(sfn, execution_arn: str) -> str | None:
    for event in sfn.get_execution_history(executionArn=execution_arn)["events"]:
        if event["type"] == "TaskScheduled":
            return json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
    return None


def _finished(sfn, execution_arn: str) -> dict:
    return wait_until(lambda: sfn.describe_execution(executionArn=execution_arn), RELOADED_WITHIN,
                      f"{execution_arn} still running", accept=lambda d: d["status"] != "RUNNING")


def _health(stack: LocalStack) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{stack.endpoint}/_local/health", timeout=5) as response:
        return json.loads(response.read())
