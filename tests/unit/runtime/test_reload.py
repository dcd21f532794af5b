"""Hot reload, driven by calling Reloader.reload with changed paths (no file watching, no processes): the template
of conftest.py in a temp directory, a real Step Functions service on a virtual clock, a recording Lambda service."""
import importlib.util
import json
import py_compile
from pathlib import Path
from types import SimpleNamespace

import pytest

from local_runtime.config import REPO_ROOT, Settings
from local_runtime.reload import Reloader, preloaded_roots
from local_runtime.awslambda.functions import function_spec
from local_runtime.cfn import api_casing
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from local_runtime.template import load_template, render_definition
from tests.support.polling import wait_until
from tests.unit.stepfunctions.helpers import FakeLambda

ENDPOINT = "http://127.0.0.1:4566"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:dofs-Fn"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:dofs-Machine"


class RecordingLambda:
    """The part of LambdaService the reloader uses, recording each call."""

    def __init__(self):
        self.recycled, self.updated, self.forkserver_restarts = [], [], 0

    def recycle(self, names):
        self.recycled.append(sorted(names))
        return {name: 2 for name in names}

    def update_function(self, spec):
        self.updated.append(spec)
        return 1

    def restart_forkserver(self):
        self.forkserver_restarts += 1
        return True


@pytest.fixture
def runtime(template_dir):
    (template_dir / "fn" / "app.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (template_dir / "layer" / "helpers.py").write_text("X = 1\n")
    settings = Settings(template=template_dir / "template.yaml", sample_data=None)
    stack = load_template(settings.template, endpoint_url=ENDPOINT)
    clock = VirtualClock()
    lambdas = FakeLambda({name: (lambda event: {"seen": event}) for name in (FN_ARN, "dofs-Fn")})
    service = StepFunctionsService(Engine(clock, Integrations(lambda_invoke=lambdas)))
    machine = stack.resources["Machine"]
    service.handle("CreateStateMachine", {"name": machine.attributes["Name"], "definition": render_definition(machine),
                                          "roleArn": "arn:aws:iam::123456789012:role/r"})
    fake = SimpleNamespace(settings=settings, stack=stack, lambda_service=RecordingLambda(), stepfunctions=service,
                           endpoint_url=ENDPOINT, gateway=SimpleNamespace(status={"status": "ready"}, outputs={}),
                           clock=clock)
    yield fake
    service.engine.shutdown()


def definition(result: dict, wait: bool = False) -> str:
    states = {"Call": {"Type": "Task", "Resource": "${FnArn}", "ResultPath": "$.call", "Next": "Shape"},
              "Shape": {"Type": "Pass", "Result": result, "End": True}}
    if wait:
        states = {"Pause": {"Type": "Wait", "Seconds": 60, "Next": "Call"}, **states}
    return json.dumps({"StartAt": "Pause" if wait else "Call", "States": states})


def test_a_function_file_recycles_that_function_only(runtime, template_dir):
    reloader = Reloader(runtime)
    messages = reloader.reload([str(template_dir / "fn" / "app.py")])
    assert runtime.lambda_service.recycled == [["dofs-Fn"]]
    assert messages == ["Fn: fn/app.py changed; 2 warm workers recycled, the next invocation runs the new code"]
    assert reloader.reload([str(template_dir / "elsewhere.txt")]) == []
    assert runtime.lambda_service.recycled == [["dofs-Fn"]]


def test_a_temporary_file_renamed_over_a_source_is_not_named_as_a_change(runtime, template_dir):
    from watchfiles import Change

    reloader = Reloader(runtime)
    source, temporary = template_dir / "fn" / "app.py", template_dir / "fn" / "sedMYTu71"  # what sed -i leaves
    messages = reloader.reload([(Change.added, str(temporary)), (Change.modified, str(temporary)),
                                (Change.deleted, str(temporary)), (Change.modified, str(source))])

    assert messages == ["Fn: fn/app.py changed; 2 warm workers recycled, the next invocation runs the new code"]
    assert reloader.reload([(Change.added, str(temporary)), (Change.deleted, str(temporary))]) == []
    assert runtime.lambda_service.recycled == [["dofs-Fn"]]


def test_a_deleted_source_is_still_a_change(runtime, template_dir):
    from watchfiles import Change

    reloader = Reloader(runtime)
    gone = template_dir / "fn" / "helper.py"  # never there: deleted before the batch was read

    assert reloader.reload([(Change.deleted, str(gone))]) == [
        "Fn: fn/helper.py changed; 2 warm workers recycled, the next invocation runs the new code"]


def test_a_layer_file_recycles_every_function_of_the_layer(runtime, template_dir):
    reloader = Reloader(runtime)
    messages = reloader.reload([str(template_dir / "layer" / "helpers.py")])
    assert runtime.lambda_service.recycled == [["dofs-Fn"]]
    assert messages == ["Fn: layer/helpers.py changed; 2 warm workers recycled, the next invocation runs the new code"]


def test_a_layer_requirements_change_is_reported_not_applied(runtime, template_dir):
    (template_dir / "layer" / "requirements.txt").write_text("requests==2.34.2\n")
    messages = Reloader(runtime).reload([str(template_dir / "layer" / "requirements.txt")])
    assert runtime.lambda_service.recycled == []
    assert messages == ["layer/requirements.txt changed: the local runtime runs the layer's libraries from .venv "
                        "(requirements-dev.txt); add them there and restart make run"]


def test_stale_bytecode_of_a_changed_module_is_removed(runtime, template_dir):
    source = template_dir / "fn" / "app.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    py_compile.compile(str(source), cfile=str(cached))
    assert cached.exists()
    Reloader(runtime).reload([str(source)])
    assert not cached.exists()


def test_a_change_to_a_preloaded_library_restarts_the_fork_server(runtime, template_dir):
    reloader = Reloader(runtime)
    reloader.preloaded = [(template_dir / "layer").resolve()]  # as if the server had imported from there
    messages = reloader.reload([str(template_dir / "layer" / "helpers.py")])
    assert runtime.lambda_service.forkserver_restarts == 1
    assert messages == ["a library the Lambda fork server preloads changed: fork server restarted, every function "
                        "gets new workers"]


def test_the_fork_server_preloads_nothing_from_the_layers():
    """Why a layer change only recycles workers: every preloaded package comes from .venv, none from a layer."""
    layers = (REPO_ROOT / "layers").resolve()
    roots = preloaded_roots()
    assert {Path(r).name for r in roots} >= {"boto3", "botocore", "aws_lambda_powertools"}
    assert [r for r in roots if layers in r.parents] == []


def test_a_definition_change_is_an_update_and_running_executions_keep_theirs(runtime, template_dir):
    # GIVEN an execution paused in a Wait state of the first definition
    asl = template_dir / "sm" / "a.asl.json"
    asl.write_text(definition({"version": 1}, wait=True))
    reloader = Reloader(runtime)
    reloader.reload([str(asl)])
    service, clock = runtime.stepfunctions, runtime.clock
    running = service.handle("StartExecution", {"stateMachineArn": MACHINE_ARN, "name": "old", "input": "{}"})
    wait_until(lambda: clock.sleepers() == 1, 5, "the execution never reached its Wait state", 0.01)

    # WHEN the definition file changes
    asl.write_text(definition({"version": 2}))
    messages = reloader.reload([str(asl)])

    # THEN the state machine has the new definition (substitutions applied), new executions use it, and the one
    # that was running finishes on the definition it started with
    assert messages == ["Machine: sm/a.asl.json -> UpdateStateMachine (definition); new executions use it, running "
                        "ones finish on theirs"]
    described = service.handle("DescribeStateMachine", {"stateMachineArn": MACHINE_ARN})
    assert json.loads(described["definition"])["States"]["Call"]["Resource"] == FN_ARN
    new = service.handle("StartExecution", {"stateMachineArn": MACHINE_ARN, "name": "new", "input": "{}"})
    finished = service.engine.wait(new["executionArn"], 5)
    assert (finished.status, finished.error, finished.cause) == ("SUCCEEDED", None, None)
    assert json.loads(finished.output) == {"version": 2}
    clock.advance(60)
    old = service.engine.wait(running["executionArn"], 5)
    assert (old.status, json.loads(old.output)) == ("SUCCEEDED", {"version": 1})


def test_an_invalid_definition_is_reported_and_the_old_one_stays(runtime, template_dir):
    asl = template_dir / "sm" / "a.asl.json"
    before = runtime.stepfunctions.handle("DescribeStateMachine", {"stateMachineArn": MACHINE_ARN})["definition"]
    asl.write_text(json.dumps({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}}))
    messages = Reloader(runtime).reload([str(asl)])
    assert len(messages) == 1
    assert messages[0].startswith("sm/a.asl.json is invalid (InvalidDefinition: Invalid State Machine Definition: ")
    assert "MISSING_TRANSITION_TARGET" in messages[0] or "Missing" in messages[0]
    assert messages[0].endswith("; Machine keeps its definition")
    after = runtime.stepfunctions.handle("DescribeStateMachine", {"stateMachineArn": MACHINE_ARN})["definition"]
    assert after == before
    asl.write_text("{ not json")
    assert Reloader(runtime).reload([str(asl)])[0].startswith("sm/a.asl.json is invalid (InvalidDefinition: ")


def test_a_template_change_applies_function_settings_live(runtime, template_dir):
    template = template_dir / "template.yaml"
    template.write_text(template.read_text().replace("POWERTOOLS_SERVICE_NAME: orders",
                                                     "POWERTOOLS_SERVICE_NAME: shipping"))
    reloader = Reloader(runtime)
    messages = reloader.reload([str(template)])
    assert messages == ["template.yaml changed: applied live: Fn (Environment; 1 warm worker recycled)"]
    [spec] = runtime.lambda_service.updated
    assert spec.environment["POWERTOOLS_SERVICE_NAME"] == "shipping"
    assert spec == function_spec(runtime.stack, runtime.stack.resources["Fn"])
    assert "restartNeeded" not in runtime.gateway.status


def test_a_template_change_that_cannot_run_live_says_restart(runtime, template_dir):
    template = template_dir / "template.yaml"
    template.write_text(template.read_text().replace("  Dlq:\n    Type: AWS::SQS::Queue\n",
                                                     "  Dlq:\n    Type: AWS::SQS::Queue\n"
                                                     "  Extra:\n    Type: AWS::SQS::Queue\n")
                        .replace("VisibilityTimeout: 60", "VisibilityTimeout: 90"))
    reloader = Reloader(runtime)
    messages = reloader.reload([str(template)])
    assert messages == ["template.yaml changed: restart make run to apply: Extra (added), Queue (changed)"]
    assert runtime.gateway.status["restartNeeded"] == ["Extra", "Queue"]
    assert runtime.lambda_service.updated == []
    # undone: nothing to restart for any more
    template.write_text(template.read_text().replace("  Extra:\n    Type: AWS::SQS::Queue\n", "")
                        .replace("VisibilityTimeout: 90", "VisibilityTimeout: 60"))
    assert reloader.reload([str(template)]) == [
        "template.yaml changed: it matches the running stack again, no restart needed"]
    assert "restartNeeded" not in runtime.gateway.status


def test_a_template_state_machine_change_is_an_update(runtime, template_dir):
    template = template_dir / "template.yaml"
    template.write_text(template.read_text().replace(
        "      Policies:\n        - LambdaInvokePolicy: {FunctionName: !Ref Fn}\n",
        "      Logging:\n        Level: ALL\n        IncludeExecutionData: true\n"
        "        Destinations:\n          - CloudWatchLogsLogGroup: {LogGroupArn: arn:aws:logs:us-east-1:"
        "123456789012:log-group:g:*}\n"
        "      Policies:\n        - LambdaInvokePolicy: {FunctionName: !Ref Fn}\n", 1))
    messages = Reloader(runtime).reload([str(template)])
    assert messages == ["template.yaml changed: applied live: Machine: its template properties -> "
                        "UpdateStateMachine (logging); new executions use it, running ones finish on theirs"]
    machine = runtime.stepfunctions.machines[MACHINE_ARN]
    assert machine.logging == api_casing({"Level": "ALL", "IncludeExecutionData": True, "Destinations": [
        {"CloudWatchLogsLogGroup": {"LogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]})


def test_an_unreadable_template_keeps_the_running_one(runtime, template_dir):
    template = template_dir / "template.yaml"
    stack = runtime.stack
    template.write_text("Resources: [")
    [message] = Reloader(runtime).reload([str(template)])
    assert message.startswith("template.yaml changed but cannot be loaded (")
    assert message.endswith("); the runtime keeps the previous one")
    assert runtime.stack is stack


def test_a_template_change_leaves_a_broken_definition_file_to_its_own_report(runtime, template_dir):
    """An invalid ASL file was reported when it was saved; a later template save does not apply it or report it
    again as the template's."""
    asl = template_dir / "sm" / "a.asl.json"
    asl.write_text("{ not json")
    reloader = Reloader(runtime)
    assert reloader.reload([str(asl)])[0].startswith("sm/a.asl.json is invalid")
    template = template_dir / "template.yaml"
    template.write_text(template.read_text().replace("POWERTOOLS_SERVICE_NAME: orders",
                                                     "POWERTOOLS_SERVICE_NAME: shipping"))
    assert reloader.reload([str(template)]) == [
        "template.yaml changed: applied live: Fn (Environment; 1 warm worker recycled)"]
