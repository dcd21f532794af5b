"""The template loader: parameters, intrinsics, physical ids and local paths, on a small SAM template."""
import json

import pytest

from local_runtime.template import TemplateError, load_template, parse_overrides, render_definition

def test_parse_overrides_accepts_both_sam_syntaxes():
    assert parse_overrides("A=1 B='two words'") == {"A": "1", "B": "two words"}
    assert parse_overrides("ParameterKey=A,ParameterValue=1") == {"A": "1"}
    assert parse_overrides("") == {}


def test_parse_overrides_rejects_a_bare_word():
    with pytest.raises(TemplateError) as exc:
        parse_overrides("Stage")
    assert exc.value.message == "Cannot parse parameter override 'Stage': expected Key=Value"


def test_intrinsics_resolve_in_function_environment(template_dir):
    stack = load_template(template_dir / "template.yaml", {"Rate": "1"}, stack_name="s1")
    fn = stack.resources["Fn"]
    assert fn.physical_id == "s1-Fn"
    assert fn.local_path == str(template_dir / "fn")
    assert fn.properties["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "TABLE": "s1-orders",
        "RATE": "1",
        "SECOND": "b",
        "JOINED": "dev-test",
        "SPLIT": "x",
        "QUEUE_NAME": "s1-Queue",
    }
    layer = stack.of_type("AWS::Lambda::LayerVersion")[0]
    assert fn.properties["Layers"] == [layer.physical_id]
    assert layer.local_path == str(template_dir / "layer")


def test_conditions_drop_resources_and_switch_values(template_dir):
    dev = load_template(template_dir / "template.yaml")
    prod = load_template(template_dir / "template.yaml", {"Stage": "prod"})
    assert "ProdOnlyTopic" not in dev.resources
    assert prod.resources["ProdOnlyTopic"].physical_id == "arn:aws:sns:us-east-1:123456789012:dofs-ProdOnlyTopic"
    assert prod.resources["Fn"].properties["Environment"]["Variables"]["JOINED"] == "prod-live"


def test_queue_ids_and_redrive_policy(template_dir):
    stack = load_template(template_dir / "template.yaml", endpoint_url="http://127.0.0.1:9999")
    queue = stack.resources["Queue"]
    assert queue.physical_id == "http://127.0.0.1:9999/123456789012/dofs-Queue"
    assert queue.properties["RedrivePolicy"] == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dofs-Dlq", "maxReceiveCount": 3}
    assert stack.outputs["QueueUrl"] == queue.physical_id


def test_event_source_mapping_and_api_body(template_dir):
    stack = load_template(template_dir / "template.yaml")
    mapping = stack.of_type("AWS::Lambda::EventSourceMapping")[0].properties
    assert mapping == {"BatchSize": 5, "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:dofs-Queue",
                       "FunctionName": "dofs-Fn", "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    body = stack.resources["Api"].properties["Body"]
    post = body["paths"]["/orders"]["post"]
    assert post["x-amazon-apigateway-integration"]["uri"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:dofs-Fn/invocations")
    assert body["definitions"]["order"]["required"] == ["a"]


def test_definition_substitutions_are_applied(template_dir):
    stack = load_template(template_dir / "template.yaml")
    machine = stack.resources["Machine"]
    assert machine.physical_id == "arn:aws:states:us-east-1:123456789012:stateMachine:dofs-Machine"
    assert json.loads(render_definition(machine))["States"]["A"]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:dofs-Fn")
    assert stack.outputs["MachineArn"] == machine.physical_id


def test_missing_substitution_is_named(template_dir):
    (template_dir / "sm" / "a.asl.json").write_text('{"Comment": "${Nope}"}')
    stack = load_template(template_dir / "template.yaml")
    with pytest.raises(TemplateError) as exc:
        render_definition(stack.resources["Machine"])
    assert exc.value.message == "Machine: ${Nope} has no DefinitionSubstitutions entry"


@pytest.mark.parametrize("overrides, message", [
    ({"Rate": "2"}, "Parameter 'Rate' must be a number not greater than 1"),
    ({"Rate": "x"}, "Parameter 'Rate' must be a number not 'x'"),
    ({"Stage": "qa"}, "Parameter 'Stage' must be one of AllowedValues"),
    ({"Nope": "1"}, "Parameter overrides name undeclared parameters: Nope"),
])
def test_bad_parameters_are_rejected_with_cloudformation_wording(template_dir, overrides, message):
    with pytest.raises(TemplateError) as exc:
        load_template(template_dir / "template.yaml", overrides)
    assert exc.value.message == message


def test_missing_code_dir_is_reported(template_dir):
    (template_dir / "fn").rmdir()
    with pytest.raises(TemplateError) as exc:
        load_template(template_dir / "template.yaml")
    assert exc.value.message == "Fn.CodeUri names 'fn/', which does not exist"
