"""Contract: template.yaml as data - outputs, paths, IAM scope, queues, alarms, SAM translation."""

import json
from pathlib import Path

import jsonschema
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_OUTPUTS = {
    "ApiUrl", "OrderStateMachineArn", "OrdersTableName", "FailedOrdersTableName", "FulfillmentQueueUrl",
    "FulfillmentDlqUrl", "CustomersTableName", "InventoryTableName", "BatchStateMachineArn", "QuoteStateMachineArn",
    "OnboardingStateMachineArn", "PaymentsTableName", "BatchesTableName", "IdempotencyTableName", "EventBusName",
    "CustomerTopicArn", "ApprovalTopicArn", "AlarmTopicArn", "CustomerApiKeyId", "ReviewerApiKeyId",
}
# CloudWatch Logs vended-log delivery (state machine Logging) has no resource-level permissions: the one "*".
LOG_DELIVERY_ACTIONS = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
LOGICAL_IDS = {
    "OrdersApi": "AWS::Serverless::Api",
    "ApiFunction": "AWS::Serverless::Function",
    "ValidateOrderFunction": "AWS::Serverless::Function",
    "StoreOrderFunction": "AWS::Serverless::Function",
    "FulfillOrderFunction": "AWS::Serverless::Function",
    "DlqHandlerFunction": "AWS::Serverless::Function",
    "SharedLayer": "AWS::Serverless::LayerVersion",
    "OrderStateMachine": "AWS::Serverless::StateMachine",
    "OrdersTable": "AWS::DynamoDB::Table",
    "FailedOrdersTable": "AWS::DynamoDB::Table",
    "CustomersTable": "AWS::DynamoDB::Table",
    "InventoryTable": "AWS::DynamoDB::Table",
    "FulfillmentQueue": "AWS::SQS::Queue",
    "FulfillmentDlq": "AWS::SQS::Queue",
    "OrderEventsTopic": "AWS::SNS::Topic",
}
TABLE_KEYS = {"OrdersTable": "order_id", "FailedOrdersTable": "order_id", "CustomersTable": "customer_id",
              "InventoryTable": "sku", "PaymentsTable": "order_id", "BatchesTable": "batch_id",
              "IdempotencyTable": "id"}
# Metrics AWS publishes, by namespace (a typo'd name gives an alarm that never fires).
REAL_METRICS = {
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
                "NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"},
    "AWS/States": {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "ExecutionThrottled",
                   "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionTime"},
    "AWS/ApiGateway": {"5XXError", "4XXError", "Count", "Latency", "IntegrationLatency"},
    "AWS/Lambda": {"Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"},
}


def resources_of_type(template, type_name):
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_name}


def function_timeout(template, logical_id):
    props = template["Resources"][logical_id]["Properties"]
    return props.get("Timeout", template["Globals"]["Function"]["Timeout"])


def test_logical_ids_and_types(template):
    assert {lid: template["Resources"][lid]["Type"] for lid in LOGICAL_IDS} == LOGICAL_IDS


def test_every_route_needs_an_api_key_of_the_stage_usage_plan(template):
    resources = template["Resources"]
    assert resources["OrdersApi"]["Properties"]["Auth"] == {"ApiKeyRequired": True}
    for event_name, event in resources["ApiFunction"]["Properties"]["Events"].items():
        assert event["Properties"].get("Auth", {}).get("ApiKeyRequired", True) is True, event_name
    plan = resources["ApiUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "OrdersApi"}, "Stage": {"Ref": "OrdersApi.Stage"}}]
    plan_keys = {r["Properties"]["KeyId"]["Ref"] for r in resources_of_type(template, "AWS::ApiGateway::UsagePlanKey")
                 .values() if r["Properties"]["UsagePlanId"] == {"Ref": "ApiUsagePlan"}}
    assert plan_keys == {"CustomerApiKey", "ReviewerApiKey"}
    for key in plan_keys:
        assert resources[key]["Properties"]["Enabled"] is True, key
    # the function tells the reviewers' key from the others by its id
    env = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["REVIEWER_API_KEY_ID"] == {"Ref": "ReviewerApiKey"}


def test_required_outputs_have_descriptions(template):
    outputs = template["Outputs"]
    assert set(outputs) == REQUIRED_OUTPUTS
    for name, output in outputs.items():
        assert output.get("Description", "").strip(), name
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${OrdersApi}.execute-api.${AWS::Region}.amazonaws.com/${Stage}/"}


def test_parameters(template):
    params = template["Parameters"]
    assert params["Stage"]["Default"] == "dev"
    assert (params["FulfillmentSuccessRate"]["Type"], params["FulfillmentSuccessRate"]["Default"],
            params["FulfillmentSuccessRate"]["MinValue"], params["FulfillmentSuccessRate"]["MaxValue"]) == (
        "Number", 0.7, 0, 1)
    assert params["MaxReceiveCount"]["Default"] == 3


def test_globals(template):
    function = template["Globals"]["Function"]
    assert (function["Runtime"], function["Tracing"], function["Layers"]) == (
        "python3.13", "Active", [{"Ref": "SharedLayer"}])
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"} <= set(
        function["Environment"]["Variables"])


def test_code_paths_exist(template):
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        module, handler = props["Handler"].split(".")
        source = ROOT / props["CodeUri"] / f"{module}.py"
        assert source.is_file(), logical_id
        assert f"def {handler}(" in source.read_text(), logical_id
        assert (ROOT / props["CodeUri"] / "__init__.py").is_file(), logical_id
    layer = template["Resources"]["SharedLayer"]
    assert (ROOT / layer["Properties"]["ContentUri"] / "fulfillment" / "__init__.py").is_file()
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert "build-SharedLayer:" in (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    for resource in resources_of_type(template, "AWS::Serverless::StateMachine").values():
        assert (ROOT / resource["Properties"]["DefinitionUri"]).is_file()


def test_layer_never_imports_functions():
    for source in (ROOT / "layers" / "shared").rglob("*.py"):
        text = source.read_text()
        assert "import functions" not in text and "from functions" not in text, source


def test_tables(template):
    for logical_id, key in TABLE_KEYS.items():
        props = template["Resources"][logical_id]["Properties"]
        assert props["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
        assert props["AttributeDefinitions"] == [{"AttributeName": key, "AttributeType": "S"}]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_sqs_consumers_and_redrive(template):
    resources = template["Resources"]
    queue = resources["FulfillmentQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["FulfillmentDlq", "Arn"]},
                                      "maxReceiveCount": {"Ref": "MaxReceiveCount"}}
    assert queue["SqsManagedSseEnabled"] is True
    assert resources["FulfillmentDlq"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    consumers = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                assert 1 <= event["Properties"]["BatchSize"] <= 10
                consumers[event["Properties"]["Queue"]["Fn::GetAtt"][0]] = logical_id
    assert consumers == {"FulfillmentQueue": "FulfillOrderFunction", "FulfillmentDlq": "DlqHandlerFunction"}
    for queue_id, function_id in consumers.items():
        visibility = resources[queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * function_timeout(template, function_id), queue_id


def _walk(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_iam_is_scoped(template):
    with_policies = set()
    for logical_id, resource in template["Resources"].items():
        policies = resource.get("Properties", {}).get("Policies")
        if policies is None:
            continue
        assert isinstance(policies, list) and policies, logical_id
        with_policies.add(logical_id)
        for policy in policies:
            assert not isinstance(policy, str), f"{logical_id}: managed policy {policy}"
            assert "FullAccess" not in json.dumps(policy), logical_id
            if "Statement" in policy:
                for statement in policy["Statement"]:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert all("*" not in action for action in actions), logical_id
                    if set(actions) == LOG_DELIVERY_ACTIONS:
                        continue
                    assert statement["Resource"] != "*" and statement["Resource"] != ["*"], logical_id
            else:
                (template_name, arguments), = policy.items()
                assert template_name.endswith("Policy"), logical_id
                assert len(arguments) == 1 and all(value not in ("*", "") for value in arguments.values()), logical_id
    # every function and state machine has its own scoped policies, but the quote function, which calls no AWS API
    principals = {logical_id for logical_id, resource in template["Resources"].items()
                  if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")}
    assert with_policies == principals - {"PriceQuoteFunction"}
    for key, value in _walk(template):
        if key == "Action":
            assert value != "*" and value != ["*"]


def test_alarm_metrics_exist_and_notify(template):
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    metrics = set()
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["MetricName"] in REAL_METRICS[props["Namespace"]], logical_id
        assert props["AlarmActions"] == [{"Ref": "OrderEventsTopic"}], logical_id
        metrics.add((props["Namespace"], props["MetricName"]))
    assert {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/States", "ExecutionsFailed"),
            ("AWS/ApiGateway", "5XXError"), ("AWS/Lambda", "Errors")} == metrics
    assert template["Resources"]["OrderEventsTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_post_orders_validates_body_in_api_gateway(template):
    api = template["Resources"]["OrdersApi"]["Properties"]
    assert api["StageName"] == {"Ref": "Stage"}
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    assert events["PostOrder"]["Properties"]["RequestModel"] == {
        "Model": "OrderRequest", "Required": True, "ValidateBody": True}
    assert (events["GetOrder"]["Properties"]["Path"], events["GetOrder"]["Properties"]["Method"]) == (
        "/orders/{orderId}", "get")
    jsonschema.Draft4Validator.check_schema(api["Models"]["OrderRequest"])


def test_checkov_skips_have_reasons(template):
    for logical_id, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_AWS_") and len(skip["comment"]) > 20, logical_id


def _with_s3_uris(template):
    template = json.loads(json.dumps(template))
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://dofs-artifacts/{logical_id}"
    return template


@pytest.fixture(scope="module")
def translated(template):
    """What `sam validate` checks: the template transformed by aws-sam-translator (local paths -> S3 URIs)."""
    managed = {"AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
               "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
    return Translator(managed_policy_map=None, sam_parser=Parser()).translate(
        _with_s3_uris(template), parameter_values={}, get_managed_policy_map=lambda: managed)


def test_sam_translator_accepts_template(translated):
    resources = translated["Resources"]
    assert resources["OrderStateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert resources["ApiFunction"]["Type"] == "AWS::Lambda::Function"
    mappings = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert sorted(m["Properties"]["FunctionResponseTypes"] for m in mappings) == [
        ["ReportBatchItemFailures"], ["ReportBatchItemFailures"], ["ReportBatchItemFailures"]]
    assert resources["QuoteStateMachine"]["Properties"]["StateMachineType"] == "EXPRESS"


def test_translated_roles_have_no_wildcards_of_ours(translated):
    for logical_id, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all(not action.endswith(":*") and action != "*" for action in actions), logical_id
                if set(actions) == LOG_DELIVERY_ACTIONS:
                    continue
                assert statement["Resource"] not in ("*", ["*"]), logical_id


def test_state_machines_log_and_trace(template):
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::StateMachine").items():
        props = resource["Properties"]
        assert props["Tracing"] == {"Enabled": True}, logical_id
        destination = props["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
        log_group = destination["Fn::GetAtt"][0]
        assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup", logical_id
        (statement,) = props["Policies"][-1]["Statement"]
        assert (statement["Sid"], statement["Effect"], statement["Resource"]) == (
            "DeliverExecutionLogs", "Allow", "*"), logical_id
        assert set(statement["Action"]) == LOG_DELIVERY_ACTIONS, logical_id


def test_every_function_has_an_errors_alarm(template):
    alarmed = {alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]
               for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
               if alarm["Properties"]["MetricName"] == "Errors"}
    assert alarmed == set(resources_of_type(template, "AWS::Serverless::Function"))


def test_events_wiring(template):
    resources = template["Resources"]
    assert resources["CustomersTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    stream = resources["CustomerEventsFunction"]["Properties"]["Events"]["CustomerChanges"]
    assert (stream["Type"], stream["Properties"]["Stream"]) == (
        "DynamoDB", {"Fn::GetAtt": ["CustomersTable", "StreamArn"]})
    rule = resources["OnboardingStateMachine"]["Properties"]["Events"]["CustomerCreated"]
    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["EventBusName"] == {"Ref": "OrderEventBus"}
    assert rule["Properties"]["Pattern"] == {"source": ["dofs.customers"], "detail-type": ["CustomerCreated"]}


def test_every_function_has_a_log_group_with_retention(template):
    """The group Lambda would create (/aws/lambda/<function name>), with a retention; SAM's LoggingConfig unused."""
    functions = resources_of_type(template, "AWS::Serverless::Function")
    groups = {lid: r["Properties"] for lid, r in resources_of_type(template, "AWS::Logs::LogGroup").items()}
    for logical_id in functions:
        assert groups[f"{logical_id}LogGroup"] == {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{logical_id}}}"},
                                                   "RetentionInDays": 30}, logical_id
        assert "LoggingConfig" not in functions[logical_id]["Properties"]


def test_the_endpoint_variables_are_declared_for_sam_local_only(template):
    """Absent on AWS (AWS::NoValue), declared so that sam local invoke --env-vars may set them (events/README.md)."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert {k: variables[k] for k in ("AWS_ENDPOINT_URL", "AWS_DISABLE_HOST_PREFIX_INJECTION")} == {
        "AWS_ENDPOINT_URL": {"Ref": "AWS::NoValue"}, "AWS_DISABLE_HOST_PREFIX_INJECTION": {"Ref": "AWS::NoValue"}}


# What Lambda's python3.13 runtime ships (the AWS SDK for Python and its dependencies): the layer leaves them out.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}


def _name(requirement: str) -> str:
    import re

    return re.split(r"[ <>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_layer_carries_every_dependency_the_runtime_lacks_and_no_other():
    """layers/shared/Makefile installs requirements.txt with pip --no-deps: each requirement of a listed package
    (per the installed package's metadata) must be listed too, or shipped by the runtime; versions as in .venv."""
    from importlib.metadata import requires, version

    lines = (ROOT / "layers" / "shared" / "requirements.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert not {_name(p) for p in pinned} & RUNTIME_PROVIDED
    for package, pinned_version in pinned.items():
        assert version(package) == pinned_version, package  # the local runtime runs the same versions
        needed = {_name(r) for r in requires(package) or [] if "extra ==" not in r}
        missing = needed - {_name(p) for p in pinned} - RUNTIME_PROVIDED
        assert not missing, f"{package} needs {missing}"
    assert {_name(p) for p in pinned} >= {"aws-lambda-powertools", "aws-xray-sdk"}  # Tracer: Tracing is Active
