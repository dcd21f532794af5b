import json

import boto3
import pytest
from moto import mock_aws

from local_runtime.stepfunctions.integrations import function_name, parse_resource

from .helpers import fn_arn, output, run


@pytest.fixture()
def aws():
    with mock_aws():
        clients = {}

        def factory(service):
            return clients.setdefault(service, boto3.client(service, region_name="us-east-1"))
        ddb = factory("dynamodb")
        ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        factory("sqs").create_queue(QueueName="q")
        yield factory


def task(resource, parameters, **extra):
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                                             "End": True, **extra}}}


def test_dynamodb_put_get_and_condition_failure(aws):
    put = task("arn:aws:states:::dynamodb:putItem", {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}},
                                                     "ConditionExpression": "attribute_not_exists(id)"},
               ResultSelector={"code.$": "$.SdkHttpMetadata.HttpStatusCode"})
    assert output(run(put, {"id": "o1"}, aws_client=aws)) == {"code": 200}
    again = run(put, {"id": "o1"}, aws_client=aws)
    assert again.error == "DynamoDB.ConditionalCheckFailedException"
    assert "Error Code: ConditionalCheckFailedException" in again.cause
    get = task("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": {"id": {"S": "o1"}}},
               ResultSelector={"item.$": "$.Item"})
    assert output(run(get, {}, aws_client=aws)) == {"item": {"id": {"S": "o1"}}}


def test_sqs_send_message_serialises_the_body(aws):
    url = aws("sqs").get_queue_url(QueueName="q")["QueueUrl"]
    send = task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": {"order.$": "$.id"}})
    result = output(run(send, {"id": "o2"}, aws_client=aws))
    assert set(result) >= {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    body = aws("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert json.loads(body) == {"order": "o2"}
    missing = run(task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url + "-nope", "MessageBody": "x"}), {},
                  aws_client=aws)
    assert missing.error.startswith("SQS.") and missing.status == "FAILED"


def test_aws_sdk_integration(aws):
    sdk = task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": "orders"},
               ResultSelector={"name.$": "$.Table.TableName"})
    assert output(run(sdk, {}, aws_client=aws)) == {"name": "orders"}
    failing = run(task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": "nope"}), {},
                  aws_client=aws)
    assert failing.error == "Dynamodb.ResourceNotFoundException"


def test_lambda_invoke_result_shape_and_function_error():
    def boom(event):
        raise ValueError("bad order")

    invoke = task("arn:aws:states:::lambda:invoke", {"FunctionName": fn_arn("echo") + ":$LATEST",
                                                     "Payload": {"a.$": "$.a"}})
    result = output(run(invoke, {"a": 1}, functions={"echo": lambda e: e}))
    assert result["Payload"] == {"a": 1}
    assert (result["StatusCode"], result["ExecutedVersion"]) == (200, "$LATEST")
    assert result["SdkResponseMetadata"]["RequestId"] == result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    failed = run(task("arn:aws:states:::lambda:invoke", {"FunctionName": "boom"}), {}, functions={"boom": boom})
    assert failed.error == "ValueError"
    assert json.loads(failed.cause)["errorMessage"] == "bad order"


def test_direct_lambda_history_events():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn_arn("echo"), "End": True}}}
    execution = run(definition, {"x": 1}, functions={"echo": lambda e: e})
    types = execution.history.types()
    assert types == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
                     "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = execution.history.events()[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled == {"resource": fn_arn("echo"), "input": '{"x":1}', "inputDetails": {"truncated": False}}


def test_optimized_task_history_events(aws):
    definition = task("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": {"id": {"S": "x"}}},
                      TimeoutSeconds=5)
    execution = run(definition, {}, aws_client=aws)
    events = execution.history.events()
    assert [e["type"] for e in events][2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert events[2]["taskScheduledEventDetails"] == {
        "resourceType": "dynamodb", "resource": "getItem", "region": "us-east-1",
        "parameters": '{"TableName":"orders","Key":{"id":{"S":"x"}}}', "timeoutInSeconds": 5}


@pytest.mark.parametrize("value,expected", [
    ("f", "f"), ("f:prod", "f"), (fn_arn("f"), "f"), (fn_arn("f") + ":$LATEST", "f"),
    ("123456789012:function:f", "f")])
def test_function_name_forms(value, expected):
    assert function_name(value) == expected


def test_resource_parsing():
    r = parse_resource("arn:aws:states:::lambda:invoke.waitForTaskToken")
    assert (r.kind, r.resource_type, r.resource_name, r.callback) == ("optimized", "lambda",
                                                                      "invoke.waitForTaskToken", True)
    assert parse_resource("arn:aws:states:::aws-sdk:s3:getObject").resource_type == "aws-sdk:s3"
