"""Contract: ASL files against the template and the code - placeholders, error names, timeouts, statelint."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
CODE_DIRS = [ROOT / "layers" / "shared", ROOT / "functions"]
STATELINT = Path(sys.executable).with_name("statelint")


def state_machines(template):
    return {lid: r["Properties"] for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::StateMachine"}


def asl_text(props):
    return (ROOT / props["DefinitionUri"]).read_text()


def all_states(states):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from all_states(state[key]["States"])


def dummy_value(key):
    if key.endswith("Arn"):
        return f"arn:aws:lambda:us-east-1:123456789012:function:dofs-{key}"
    if key.endswith("Url"):
        return f"https://sqs.us-east-1.amazonaws.com/123456789012/dofs-{key}"
    return f"dofs-{key}"


def substituted(text):
    return PLACEHOLDER.sub(lambda match: dummy_value(match.group(1)), text)


def leaf_raised_exceptions():
    """Class names defined under layers/shared and functions that no class there subclasses and code raises."""
    defined: dict[str, list[str]] = {}
    raised: set[str] = set()
    for directory in CODE_DIRS:
        for source in directory.rglob("*.py"):
            tree = ast.parse(source.read_text(), filename=str(source))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    defined[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
                elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                    func = node.exc.func
                    if isinstance(func, ast.Name):
                        raised.add(func.id)
                elif (isinstance(node, ast.Attribute) and node.attr == "__name__"
                      and isinstance(node.value, ast.Name)):
                    raised.add(node.value.id)  # sent as an error name, e.g. SendTaskFailure(error=X.__name__)
    parents = {base for bases in defined.values() for base in bases}
    return {name for name in defined if name not in parents} & raised


def test_every_placeholder_is_substituted_and_vice_versa(template):
    machines = state_machines(template)
    assert set(machines) == {"OrderStateMachine", "BatchStateMachine", "QuoteStateMachine", "OnboardingStateMachine"}
    assert {props["DefinitionUri"] for props in machines.values()} == {
        f"statemachine/{path.name}" for path in (ROOT / "statemachine").glob("*.asl.json")}
    for logical_id, props in machines.items():
        assert "Definition" not in props and "DefinitionString" not in props, logical_id
        assert set(PLACEHOLDER.findall(asl_text(props))) == set(props["DefinitionSubstitutions"]), logical_id


def test_no_hard_coded_arns_or_names(template):
    for props in state_machines(template).values():
        text = asl_text(props)
        assert "123456789012" not in text
        assert re.search(r"arn:aws:(lambda|sqs|dynamodb):", text) is None


def test_error_names_are_leaf_exceptions_raised_by_code(template):
    leaves = leaf_raised_exceptions()
    assert {"InvalidOrderError", "CustomerNotFoundError", "CustomerInactiveError", "UnknownSkuError",
            "InsufficientStockError", "OrderAlreadyExistsError", "FulfillmentFailedError", "PaymentGatewayTimeout",
            "PaymentProcessingError", "PaymentFailedError", "ApprovalRejectedError"} <= leaves
    for props in state_machines(template).values():
        definition = json.loads(asl_text(props))
        for name, state in all_states(definition["States"]):
            for rule in state.get("Retry", []) + state.get("Catch", []):
                for error in rule["ErrorEquals"]:
                    if "." in error:  # States.*, Lambda.*, DynamoDB.*: service-defined names
                        assert error.split(".")[0] in {"States", "Lambda", "DynamoDB", "SQS", "SNS", "EventBridge",
                                                       "StepFunctions"}, (name, error)
                    else:
                        assert error in leaves, (name, error)
                if "States.ALL" in rule["ErrorEquals"]:
                    assert rule["ErrorEquals"] == ["States.ALL"], name


def test_business_errors_are_caught_in_validate_order(template):
    definition = json.loads(asl_text(state_machines(template)["OrderStateMachine"]))
    validate = definition["States"]["ValidateOrder"]
    assert validate["Catch"][0]["ErrorEquals"] == ["InvalidOrderError", "CustomerNotFoundError",
                                                   "CustomerInactiveError", "UnknownSkuError",
                                                   "InsufficientStockError"]
    assert validate["Catch"][0]["Next"] == "DescribeRejection"


def test_every_task_has_timeout_and_retry_before_catch(template):
    for props in state_machines(template).values():
        definition = json.loads(asl_text(props))
        for name, state in all_states(definition["States"]):
            if state["Type"] != "Task":
                continue
            assert isinstance(state.get("TimeoutSeconds"), int) or "TimeoutSecondsPath" in state, name
            if ".waitForTaskToken" in state["Resource"]:
                assert isinstance(state.get("HeartbeatSeconds"), int) or "HeartbeatSecondsPath" in state, name
            keys = list(state)
            if "Retry" in state and "Catch" in state:
                assert keys.index("Retry") < keys.index("Catch"), name


def test_every_error_the_workflow_does_not_name_still_fails_the_order(template):
    """A Lambda timeout, a crash or any error no Catch names must not leave an accepted order PROCESSING (or never
    stored): every Task and Parallel ends its Catch list with States.ALL (the compensation tasks through the Parallel
    that holds them), and every unnamed failure goes to the FAILED decision before anything is given back."""
    states = json.loads(asl_text(state_machines(template)["OrderStateMachine"]))["States"]
    compensations = {name for branch in states["CompensateFailedOrder"]["Branches"] for name in branch["States"]}
    checked = []
    for name, state in all_states(states):
        if state["Type"] in ("Task", "Parallel") and name not in compensations:
            assert state.get("Catch") and state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
            checked.append(name)
    assert len(checked) == 19
    assert compensations == {"RefundPayment", "ReleaseInventory"}
    assert states["DescribeUnexpectedFailure"]["Next"] == "UpdateOrderFailed"
    assert states["UpdateOrderFailed"]["Next"] == "CompensateFailedOrder"
    assert states["CompensateFailedOrder"]["Next"] == "RecordWorkflowFailure"
    assert [(c["ErrorEquals"], c["Next"]) for c in states["UpdateOrderFailed"]["Catch"]] == [
        (["DynamoDB.ConditionalCheckFailedException"], "SummarizeFulfilledOrder"), (["States.ALL"], "HandOffToDlq")]


FAILURE_PATH_WRITES = ("UpdateOrderFailed", "RefundPayment", "ReleaseInventory", "RecordWorkflowFailure",
                       "RecordRejection", "MarkOrderFailed", "HandOffToDlq")


@pytest.mark.parametrize("name", FAILURE_PATH_WRITES)
def test_every_write_of_the_failure_path_is_retried_whatever_the_error(template, name):
    """A timeout or any error of the failure path's own writes is retried with backoff (a conditional write's refusal
    is an answer, not an error: it is caught, never retried)."""
    states = dict(all_states(json.loads(asl_text(state_machines(template)["OrderStateMachine"]))["States"]))
    retry = states[name]["Retry"]
    conditional = [r for r in retry if r["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]]
    assert conditional in ([], [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "MaxAttempts": 0}])
    assert retry[-1] == {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 6, "BackoffRate": 2.0,
                         "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}


def test_lambda_tasks_retry_service_errors(template):
    definition = json.loads(asl_text(state_machines(template)["OrderStateMachine"]))
    for name in ("ValidateOrder", "StoreOrder"):
        state = definition["States"][name]
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        assert state["ResultSelector"] and state["ResultPath"]
        assert state["Retry"] == [{
            "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                            "Lambda.TooManyRequestsException"],
            "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}]


def test_rejections_are_recorded_in_both_tables(template):
    props = state_machines(template)["OrderStateMachine"]
    definition = json.loads(asl_text(props))
    states = definition["States"]
    assert states["RecordRejection"]["Parameters"]["TableName"] == "${FailedOrdersTableName}"
    assert states["DescribeRejection"]["Next"] == "DescribeRejectionFailure"
    assert states["DescribeRejectionFailure"]["Parameters"]["error"] == "OrderRejected"
    assert states["DescribeRejectionFailure"]["Next"] == "RecordRejection"
    assert states["RecordRejection"]["Next"] == "MarkOrderFailed"
    assert states["MarkOrderFailed"]["Parameters"]["TableName"] == "${OrdersTableName}"
    assert states["MarkOrderFailed"]["Parameters"]["Item"]["status"] == {"S": "FAILED"}
    assert states["MarkOrderFailed"]["Next"] == "NotifyOrderFailed"
    assert states["OrderFailed"] == {"Type": "Fail", "ErrorPath": "$.failure.error", "CausePath": "$.failure.cause"}
    assert states["EnqueueFulfillment"]["Parameters"]["QueueUrl"] == "${FulfillmentQueueUrl}"
    assert states["EnqueueFulfillment"]["Parameters"]["MessageBody"] == {"order.$": "$.order"}


@pytest.mark.parametrize("asl", sorted((ROOT / "statemachine").glob("*.asl.json")), ids=lambda p: p.name)
def test_statelint_passes_after_substitution(asl, tmp_path):
    rendered = tmp_path / asl.name
    rendered.write_text(substituted(asl.read_text()))
    result = subprocess.run([str(STATELINT), str(rendered)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "")


def test_payment_retries_5_then_10_seconds_and_catches_declines(template):
    states = json.loads(asl_text(state_machines(template)["OrderStateMachine"]))["States"]
    parallel = states["ChargeAndReserve"]
    assert parallel["Type"] == "Parallel"
    charge = parallel["Branches"][0]["States"]["ChargePayment"]
    assert charge["Retry"][1] == {"ErrorEquals": ["PaymentGatewayTimeout", "PaymentProcessingError"],
                                  "IntervalSeconds": 5, "MaxAttempts": 2, "BackoffRate": 2.0}
    assert [rule["ErrorEquals"] for rule in charge["Catch"]] == [
        ["PaymentFailedError"], ["PaymentGatewayTimeout", "PaymentProcessingError"], ["States.ALL"]]
    check = states["CheckResults"]["Choices"][0]
    assert [rule["Variable"] for rule in check["And"]] == ["$.checks.payment.payment_status",
                                                            "$.checks.inventory.inventory_status"]


def test_approval_is_a_callback_with_timeout_heartbeat_and_escalation(template):
    states = json.loads(asl_text(state_machines(template)["OrderStateMachine"]))["States"]
    wait = states["AwaitApproval"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert [(rule["ErrorEquals"], rule["Next"]) for rule in wait["Catch"]] == [
        (["ApprovalRejectedError"], "DescribeApprovalRejection"),
        (["States.HeartbeatTimeout", "States.Timeout"], "WaitBeforeEscalation"),
        (["States.ALL"], "DescribeUnexpectedFailure")]
    assert states["WaitBeforeEscalation"]["Next"] == "EscalateApproval"
    template_parameters = template["Parameters"]
    assert (template_parameters["ApprovalHeartbeatSeconds"]["Default"]
            < template_parameters["ApprovalTimeoutSeconds"]["Default"])


def test_notifications_use_the_optimized_sns_integration_with_format(template):
    published = []
    for props in state_machines(template).values():
        for name, state in all_states(json.loads(asl_text(props))["States"]):
            if state.get("Resource") == "arn:aws:states:::sns:publish":
                published.append(name)
                assert state["Parameters"]["TopicArn"] in ("${CustomerTopicArn}", "${ApprovalTopicArn}"), name
                assert state["Parameters"]["Message.$"].startswith("States.Format("), name
    assert sorted(published) == ["EscalateApproval", "NotifyApprovalNeeded", "NotifyOrderConfirmed",
                                 "NotifyOrderFailed", "SendWelcomeNotification"]
