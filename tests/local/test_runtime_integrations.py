"""The local runtime's service integrations, on a purpose-built template (never the app's):

nested Step Functions executions (``states:startExecution`` .sync, .sync:2, .waitForTaskToken), Express workflows
with StartSyncExecution, SNS -> Lambda/SQS, EventBridge rules -> Lambda / state machine / SQS, DynamoDB streams ->
Lambda, payload limits and API keys. One runtime runs in this process for the whole module; the Lambda handlers
(tests/local/lambda_fixtures/integrations) write every event they receive to a temporary folder.
"""
from __future__ import annotations

import json
import shutil
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local_runtime.config import Settings
from local_runtime.runtime import LocalRuntime
from tests.support.polling import wait_execution, wait_until

FIXTURE = Path(__file__).parent / "lambda_fixtures" / "integrations"

TEMPLATE = textwrap.dedent("""
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      RecordDir: {Type: String}
    Globals:
      Function:
        Runtime: python3.13
        CodeUri: fn/
        Timeout: 10
        Environment:
          Variables:
            RECORD_DIR: !Ref RecordDir
    Resources:
      Bus:
        Type: AWS::Events::EventBus
        Properties: {Name: !Sub "${AWS::StackName}-orders"}
      Topic:
        Type: AWS::SNS::Topic
      EnvelopeQueue:
        Type: AWS::SQS::Queue
      RawQueue:
        Type: AWS::SQS::Queue
      EnvelopeSubscription:
        Type: AWS::SNS::Subscription
        Properties: {TopicArn: !Ref Topic, Protocol: sqs, Endpoint: !GetAtt EnvelopeQueue.Arn}
      RawSubscription:
        Type: AWS::SNS::Subscription
        Properties: {TopicArn: !Ref Topic, Protocol: sqs, Endpoint: !GetAtt RawQueue.Arn, RawMessageDelivery: true}
      RuleQueue:
        Type: AWS::SQS::Queue
      SmallQueue:
        Type: AWS::SQS::Queue
        Properties: {MaximumMessageSize: 1024}
      StreamFailures:
        Type: AWS::SQS::Queue
      Customers:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
          StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      Notify:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.record
          Events:
            Orders:
              Type: SNS
              Properties:
                Topic: !Ref Topic
                FilterPolicy: {kind: [order]}
      OnBigOrder:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.record
          Events:
            BigOrder:
              Type: EventBridgeRule
              Properties:
                EventBusName: !Ref Bus
                Pattern:
                  source: [dofs.orders]
                  detail-type: [OrderPlaced]
                  detail: {total: [{numeric: [">", 100]}]}
      Subscriber:
        Type: AWS::Serverless::Function
        Properties: {Handler: app.record}
      StreamConsumer:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.stream
          Events:
            Changes:
              Type: DynamoDB
              Properties:
                Stream: !GetAtt Customers.StreamArn
                StartingPosition: TRIM_HORIZON
                BatchSize: 10
                MaximumRetryAttempts: 1
                FunctionResponseTypes: [ReportBatchItemFailures]
                DestinationConfig:
                  OnFailure: {Type: SQS, Destination: !GetAtt StreamFailures.Arn}
      KeyedApi:
        Type: AWS::Serverless::Api
        Properties:
          StageName: v1
          Auth:
            ApiKeyRequired: true
            UsagePlan: {CreateUsagePlan: PER_API}
      Keyed:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.api
          Events:
            Get:
              Type: Api
              Properties: {RestApiId: !Ref KeyedApi, Path: /keyed, Method: get}
      TransformRule:
        Type: AWS::Events::Rule
        Properties:
          EventBusName: !Ref Bus
          EventPattern: {detail-type: [OrderShipped]}
          Targets:
            - Id: queue
              Arn: !GetAtt RuleQueue.Arn
              InputTransformer:
                InputPathsMap: {order: $.detail.orderId, items: $.detail.items}
                InputTemplate: '{"order": "<order>", "items": <items>, "rule": "<aws.events.rule-name>"}'
      Child:
        Type: AWS::Serverless::StateMachine
        Properties:
          Definition:
            StartAt: Route
            States:
              Route:
                Type: Choice
                Choices:
                  - {Variable: $.fail, IsPresent: true, Next: Boom}
                  - {Variable: $.wait, IsPresent: true, Next: Sleep}
                Default: Double
              Sleep: {Type: Wait, SecondsPath: $.wait, Next: Double}
              Double:
                Type: Pass
                Parameters: {"doubled.$": "States.MathAdd($.value, $.value)"}
                End: true
              Boom: {Type: Fail, Error: ChildError, Cause: child said no}
      ParentSync2:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionSubstitutions: {ChildArn: !Ref Child}
          Definition:
            StartAt: RunChild
            States:
              RunChild:
                Type: Task
                Resource: arn:aws:states:::states:startExecution.sync:2
                Parameters: {StateMachineArn: "${ChildArn}", "Input.$": "$"}
                End: true
      ParentSync:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionSubstitutions: {ChildArn: !Ref Child}
          Definition:
            StartAt: RunChild
            States:
              RunChild:
                Type: Task
                Resource: arn:aws:states:::states:startExecution.sync
                Parameters: {StateMachineArn: "${ChildArn}", "Input.$": "$", Name: !Sub "child-of-sync"}
                End: true
      ParentTimeout:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionSubstitutions: {ChildArn: !Ref Child}
          Definition:
            StartAt: RunChild
            States:
              RunChild:
                Type: Task
                Resource: arn:aws:states:::states:startExecution.sync:2
                Parameters: {StateMachineArn: "${ChildArn}", "Input.$": "$"}
                TimeoutSeconds: 5
                End: true
      Approver:
        Type: AWS::Serverless::StateMachine
        Properties:
          Definition:
            StartAt: Approve
            States:
              Approve:
                Type: Task
                Resource: arn:aws:states:::aws-sdk:sfn:sendTaskSuccess
                Parameters: {"TaskToken.$": "$.token", Output: '{"approved": true}'}
                End: true
      ParentCallback:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionSubstitutions: {ApproverArn: !Ref Approver}
          Definition:
            StartAt: AskApproval
            States:
              AskApproval:
                Type: Task
                Resource: arn:aws:states:::states:startExecution.waitForTaskToken
                Parameters:
                  StateMachineArn: "${ApproverArn}"
                  Input: {"token.$": "$$.Task.Token"}
                TimeoutSeconds: 60
                End: true
      Quote:
        Type: AWS::Serverless::StateMachine
        Properties:
          Type: EXPRESS
          Definition:
            StartAt: Price
            States:
              Price:
                Type: Pass
                Parameters: {"price.$": "States.MathAdd($.base, 5)"}
                End: true
      Onboarding:
        Type: AWS::Serverless::StateMachine
        Properties:
          Definition:
            StartAt: Welcome
            States:
              Welcome: {Type: Pass, End: true}
          Events:
            Created:
              Type: EventBridgeRule
              Properties:
                EventBusName: !Ref Bus
                Pattern: {detail-type: [CustomerCreated]}
""")


def wait_for(predicate):
    return wait_until(predicate, 15.0, "condition not met within 15 s", interval=0.05)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("integrations")
    shutil.copytree(FIXTURE, root / "fn")
    (root / "template.yaml").write_text(TEMPLATE)
    records = root / "records"
    records.mkdir()
    settings = Settings(template=root / "template.yaml", sample_data=None, stack_name="integ", api_port=0,
                        endpoint_port=0, overrides={"RecordDir": str(records)}, time_scale=0.01)
    runtime = LocalRuntime(settings).start()
    runtime.records = records
    yield runtime
    runtime.stop()


def recorded(runtime, logical_id: str) -> list[dict]:
    folder = runtime.records / runtime.stack.resources[logical_id].physical_id
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in files]


def invocations(runtime, logical_id: str) -> int:
    """Invocations the runtime has accepted for the function so far (an SNS fan-out or an EventBridge rule's Lambda
    target is counted when its asynchronous invoke is accepted, before it runs)."""
    return runtime.lambda_service.invocation_counts().get(runtime.stack.resources[logical_id].physical_id, 0)


def machine_arn(runtime, logical_id: str) -> str:
    return runtime.stack.resources[logical_id].physical_id


def run(runtime, logical_id: str, payload: dict) -> dict:
    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine_arn(runtime, logical_id), input=json.dumps(payload))["executionArn"]
    return wait_execution(sfn, arn, timeout=15.0)


def history(runtime, execution_arn: str) -> list[dict]:
    return runtime.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


# -- Step Functions: nested executions -----------------------------------------------------------------------------

def test_sync2_parent_waits_for_child_and_gets_parsed_output(stack):
    parent = run(stack, "ParentSync2", {"value": 21})
    assert parent["status"] == "SUCCEEDED"
    output = json.loads(parent["output"])
    child_arn = output["ExecutionArn"]
    assert child_arn.startswith(f"{machine_arn(stack, 'Child').replace(':stateMachine:', ':execution:')}:")
    assert output["Input"] == {"value": 21}
    assert output["Output"] == {"doubled": 42}
    assert output["Status"] == "SUCCEEDED"
    assert output["StateMachineArn"] == machine_arn(stack, "Child")
    assert output["InputDetails"] == {"Included": True} and output["OutputDetails"] == {"Included": True}
    assert isinstance(output["StartDate"], int) and output["StopDate"] >= output["StartDate"]

    events = history(stack, parent["executionArn"])
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("states", "startExecution.sync:2")
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == child_arn
    assert submitted["SdkHttpMetadata"]["HttpStatusCode"] == 200

    child = stack.client("stepfunctions").describe_execution(executionArn=child_arn)
    assert child["status"] == "SUCCEEDED" and json.loads(child["output"]) == {"doubled": 42}
    assert [e["type"] for e in history(stack, child_arn)] == [
        "ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded"]


def test_sync_parent_gets_child_output_as_json_string(stack):
    parent = run(stack, "ParentSync", {"value": 5})
    assert parent["status"] == "SUCCEEDED"
    output = json.loads(parent["output"])
    assert output["Name"] == "child-of-sync"
    assert output["Input"] == '{"value":5}'
    assert json.loads(output["Output"]) == {"doubled": 10}


def test_child_failure_fails_the_parent_task_with_states_task_failed(stack):
    parent = run(stack, "ParentSync2", {"value": 1, "fail": True})
    assert parent["status"] == "FAILED"
    assert parent["error"] == "States.TaskFailed"
    cause = json.loads(parent["cause"])
    assert cause["Status"] == "FAILED"
    assert (cause["Error"], cause["Cause"]) == ("ChildError", "child said no")
    assert cause["Input"] == {"value": 1, "fail": True}
    failed = [e for e in history(stack, parent["executionArn"]) if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"]["error"] == "States.TaskFailed"
    assert json.loads(failed[0]["taskFailedEventDetails"]["cause"])["ExecutionArn"] == cause["ExecutionArn"]


def test_stopping_the_parent_stops_the_running_child(stack):
    sfn = stack.client("stepfunctions")
    parent_arn = sfn.start_execution(stateMachineArn=machine_arn(stack, "ParentSync2"),
                                     input=json.dumps({"value": 1, "wait": 3000}))["executionArn"]

    def submitted_child():
        events = history(stack, parent_arn)
        sub = [e for e in events if e["type"] == "TaskSubmitted"]
        return sub and json.loads(sub[0]["taskSubmittedEventDetails"]["output"])["ExecutionArn"]

    child_arn = wait_for(submitted_child)
    assert sfn.describe_execution(executionArn=child_arn)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=parent_arn, error="Cancelled", cause="by the test")
    assert wait_for(lambda: sfn.describe_execution(executionArn=child_arn)["status"] != "RUNNING" and
                    sfn.describe_execution(executionArn=child_arn)["status"]) == "ABORTED"
    assert sfn.describe_execution(executionArn=parent_arn)["status"] == "ABORTED"
    assert history(stack, child_arn)[-1]["type"] == "ExecutionAborted"


def test_task_timeout_of_a_sync_task_stops_the_child(stack):
    parent = run(stack, "ParentTimeout", {"value": 1, "wait": 3000})
    assert (parent["status"], parent["error"]) == ("FAILED", "States.Timeout")
    events = history(stack, parent["executionArn"])
    child_arn = json.loads([e for e in events if e["type"] == "TaskSubmitted"][0]
                           ["taskSubmittedEventDetails"]["output"])["ExecutionArn"]
    assert [e["type"] for e in events][-2:] == ["TaskTimedOut", "ExecutionFailed"]
    sfn = stack.client("stepfunctions")
    assert wait_for(lambda: sfn.describe_execution(executionArn=child_arn)["status"] != "RUNNING" and
                    sfn.describe_execution(executionArn=child_arn)["status"]) == "ABORTED"


def test_wait_for_task_token_child_answers_the_parent(stack):
    parent = run(stack, "ParentCallback", {})
    assert parent["status"] == "SUCCEEDED"
    assert json.loads(parent["output"]) == {"approved": True}
    types = [e["type"] for e in history(stack, parent["executionArn"])]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    # the child answers the parent's token before its own last state: it may still be RUNNING when the parent ends
    sfn = stack.client("stepfunctions")
    approvers = wait_for(lambda: [e for e in sfn.list_executions(stateMachineArn=machine_arn(
        stack, "Approver"))["executions"] if e["status"] != "RUNNING"])
    assert [e["status"] for e in approvers] == ["SUCCEEDED"]


def test_express_workflow_start_sync_execution(stack):
    sfn = stack.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=machine_arn(stack, "Quote"))
    assert described["type"] == "EXPRESS"
    result = sfn.start_sync_execution(stateMachineArn=machine_arn(stack, "Quote"), input='{"base": 10}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"price": 15}
    assert ":express:" in result["executionArn"]
    with pytest.raises(ClientError) as caught:
        sfn.start_sync_execution(stateMachineArn=machine_arn(stack, "Child"), input="{}")
    assert caught.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


# -- SNS ----------------------------------------------------------------------------------------------------------

def receive_all(sqs, url: str, expected: int) -> list[dict]:
    messages: list[dict] = []

    def got():
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"])
        messages.extend(response.get("Messages", []))
        return len(messages) >= expected

    wait_for(got)
    return messages


def test_sns_publish_reaches_lambda_with_the_sns_event_and_sqs_subscribers(stack):
    sns, sqs = stack.client("sns"), stack.client("sqs")
    topic = stack.stack.resources["Topic"].physical_id
    invoked = invocations(stack, "Notify")
    first = sns.publish(TopicArn=topic, Message='{"order": "o-1"}', Subject="new order",
                        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})
    sns.publish(TopicArn=topic, Message="not for the function",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "other"}})
    # the fan-out decides within Publish: the filtered-out message was never handed to the function
    assert invocations(stack, "Notify") == invoked + 1

    events = wait_for(lambda: recorded(stack, "Notify"))
    record = events[0]["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    message = record["Sns"]
    assert message["Type"] == "Notification"
    assert message["MessageId"] == first["MessageId"]
    assert message["TopicArn"] == topic
    assert message["Subject"] == "new order"
    assert message["Message"] == '{"order": "o-1"}'
    assert message["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}

    envelope_url = stack.stack.resources["EnvelopeQueue"].physical_id
    bodies = [json.loads(m["Body"]) for m in receive_all(sqs, envelope_url, 2)]
    assert {b["Message"] for b in bodies} == {'{"order": "o-1"}', "not for the function"}
    assert {b["Type"] for b in bodies} == {"Notification"} and {b["TopicArn"] for b in bodies} == {topic}
    raw = receive_all(sqs, stack.stack.resources["RawQueue"].physical_id, 2)
    assert {m["Body"] for m in raw} == {'{"order": "o-1"}', "not for the function"}
    assert len(recorded(stack, "Notify")) == 1


def test_sns_publish_batch_reaches_lambda_per_entry(stack):
    topic = stack.stack.resources["Topic"].physical_id
    before, invoked = len(recorded(stack, "Notify")), invocations(stack, "Notify")
    response = stack.client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "one", "Message": "batch order",
         "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "order"}}},
        {"Id": "two", "Message": "batch other",
         "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "other"}}},
    ])
    ids = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
    assert invocations(stack, "Notify") == invoked + 1   # the entry "two" was filtered out within PublishBatch
    events = wait_for(lambda: len(recorded(stack, "Notify")) > before and recorded(stack, "Notify"))
    assert len(events) == before + 1
    message = events[-1]["Records"][0]["Sns"]
    assert (message["Message"], message["MessageId"]) == ("batch order", ids["one"])
    assert message["Subject"] is None


def test_sns_subscribe_lambda_at_run_time(stack):
    sns = stack.client("sns")
    topic = sns.create_topic(Name="integ-runtime-topic")["TopicArn"]
    function_arn = stack.stack.resources["Subscriber"].attributes["Arn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    before = len(recorded(stack, "Subscriber"))
    sent = sns.publish(TopicArn=topic, Message="hello")["MessageId"]
    events = wait_for(lambda: len(recorded(stack, "Subscriber")) > before and recorded(stack, "Subscriber"))
    record = events[-1]["Records"][0]
    assert (record["EventSubscriptionArn"], record["Sns"]["MessageId"]) == (subscription, sent)
    sns.unsubscribe(SubscriptionArn=subscription)
    invoked = invocations(stack, "Subscriber")
    sns.publish(TopicArn=topic, Message="after unsubscribe")
    assert invocations(stack, "Subscriber") == invoked   # decided within Publish: no subscriber left
    assert len(recorded(stack, "Subscriber")) == before + 1


def test_sns_message_over_256_kb_is_rejected(stack):
    topic = stack.stack.resources["Topic"].physical_id
    with pytest.raises(ClientError) as caught:
        stack.client("sns").publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"


# -- EventBridge --------------------------------------------------------------------------------------------------

def bus_name(runtime) -> str:
    return runtime.stack.resources["Bus"].physical_id


def test_eventbridge_rule_delivers_matching_events_to_lambda(stack):
    events = stack.client("events")
    small = {"Source": "dofs.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"total": 50}),
             "EventBusName": bus_name(stack)}
    big = dict(small, Detail=json.dumps({"total": 150, "orderId": "o-9"}), Resources=["arn:aws:dynamodb:x"])
    invoked = invocations(stack, "OnBigOrder")
    response = events.put_events(Entries=[small, big])
    assert response["FailedEntryCount"] == 0
    assert stack.eventbridge.drain(timeout=15)   # both events matched against the rules, targets invoked
    assert invocations(stack, "OnBigOrder") == invoked + 1   # the small one matched no rule of the function
    big_id = response["Entries"][1]["EventId"]
    got = wait_for(lambda: recorded(stack, "OnBigOrder"))
    event = got[0]
    assert event["id"] == big_id
    assert (event["source"], event["detail-type"], event["detail"]) == ("dofs.orders", "OrderPlaced",
                                                                        {"total": 150, "orderId": "o-9"})
    assert event["resources"] == ["arn:aws:dynamodb:x"]
    assert (event["account"], event["region"], event["version"]) == ("123456789012", "us-east-1", "0")
    assert len(recorded(stack, "OnBigOrder")) == 1


def test_eventbridge_rule_starts_the_state_machine_with_the_event_as_input(stack):
    response = stack.client("events").put_events(Entries=[{
        "Source": "dofs.customers", "DetailType": "CustomerCreated", "Detail": json.dumps({"customerId": "c-1"}),
        "EventBusName": bus_name(stack)}])
    event_id = response["Entries"][0]["EventId"]
    sfn = stack.client("stepfunctions")
    executions = wait_for(lambda: sfn.list_executions(
        stateMachineArn=machine_arn(stack, "Onboarding"))["executions"])
    execution = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    event = json.loads(execution["input"])
    assert event["id"] == event_id
    assert event["detail"] == {"customerId": "c-1"} and event["detail-type"] == "CustomerCreated"


def test_eventbridge_input_transformer_to_sqs(stack):
    stack.client("events").put_events(Entries=[{
        "Source": "dofs.orders", "DetailType": "OrderShipped", "EventBusName": bus_name(stack),
        "Detail": json.dumps({"orderId": "o-7", "items": [{"sku": "A", "qty": 2}]})}])
    messages = receive_all(stack.client("sqs"), stack.stack.resources["RuleQueue"].physical_id, 1)
    assert json.loads(messages[0]["Body"]) == {"order": "o-7", "items": [{"sku": "A", "qty": 2}],
                                               "rule": stack.stack.resources["TransformRule"].physical_id}


def test_eventbridge_put_events_validation(stack):
    events = stack.client("events")
    response = events.put_events(Entries=[
        {"Source": "dofs.orders", "DetailType": "OrderPlaced", "EventBusName": bus_name(stack)},
        {"Source": "dofs.orders", "DetailType": "OrderPlaced", "Detail": "[1]", "EventBusName": bus_name(stack)},
        {"Source": "dofs.orders", "DetailType": "OrderPlaced", "Detail": "{}", "EventBusName": "no-such-bus"},
    ])
    assert response["FailedEntryCount"] == 3
    assert [e["ErrorCode"] for e in response["Entries"]] == ["InvalidArgument", "MalformedDetail",
                                                             "ResourceNotFoundException"]
    with pytest.raises(ClientError) as caught:
        events.put_events(Entries=[{"Source": "s", "DetailType": "d",
                                    "Detail": json.dumps({"blob": "x" * (256 * 1024)})}])
    assert caught.value.response["Error"]["Code"] == "ValidationException"


# -- DynamoDB streams ---------------------------------------------------------------------------------------------

def test_dynamodb_stream_records_reach_the_consumer_in_lambda_shape(stack):
    dynamodb = stack.client("dynamodb")
    table = stack.stack.resources["Customers"].physical_id
    dynamodb.put_item(TableName=table, Item={"id": {"S": "c-1"}, "name": {"S": "Ada"}})
    dynamodb.update_item(TableName=table, Key={"id": {"S": "c-1"}}, UpdateExpression="SET #n = :n",
                         ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "Grace"}})
    records = wait_for(lambda: [r for e in recorded(stack, "StreamConsumer") for r in e["Records"]
                                if r["dynamodb"]["Keys"] == {"id": {"S": "c-1"}}][:2]
                       if len([r for e in recorded(stack, "StreamConsumer") for r in e["Records"]
                               if r["dynamodb"]["Keys"] == {"id": {"S": "c-1"}}]) >= 2 else None)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    insert, modify = records
    assert (insert["eventName"], modify["eventName"]) == ("INSERT", "MODIFY")
    assert insert["eventSource"] == "aws:dynamodb" and insert["eventSourceARN"] == stream_arn
    assert insert["awsRegion"] == "us-east-1" and insert["eventVersion"] == "1.0"
    assert insert["dynamodb"]["NewImage"] == {"id": {"S": "c-1"}, "name": {"S": "Ada"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["name"] == {"S": "Ada"}
    assert modify["dynamodb"]["NewImage"]["name"] == {"S": "Grace"}
    assert modify["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert int(modify["dynamodb"]["SequenceNumber"]) > int(insert["dynamodb"]["SequenceNumber"])
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], (int, float))


def test_dynamodb_stream_item_failure_is_retried_then_sent_to_on_failure_destination(stack):
    dynamodb = stack.client("dynamodb")
    table = stack.stack.resources["Customers"].physical_id
    dynamodb.put_item(TableName=table, Item={"id": {"S": "bad-1"}, "fail": {"BOOL": True}})

    def deliveries():
        return [r for e in recorded(stack, "StreamConsumer") for r in e["Records"]
                if r["dynamodb"]["Keys"] == {"id": {"S": "bad-1"}}]

    messages = receive_all(stack.client("sqs"), stack.stack.resources["StreamFailures"].physical_id, 1)
    assert len(deliveries()) == 2  # the first attempt and MaximumRetryAttempts: 1 retry
    document = json.loads(messages[0]["Body"])
    info = document["DDBStreamBatchInfo"]
    sequence = deliveries()[0]["dynamodb"]["SequenceNumber"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (sequence, sequence, 1)
    assert info["streamArn"] == dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"


# -- payload limits -----------------------------------------------------------------------------------------------

def test_sqs_enforces_the_queue_maximum_message_size(stack):
    sqs = stack.client("sqs")
    url = stack.stack.resources["SmallQueue"].physical_id
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_lambda_invoke_over_6_mb_is_rejected(stack):
    with pytest.raises(ClientError) as caught:
        stack.client("lambda").invoke(FunctionName=stack.stack.resources["Notify"].physical_id,
                                      Payload=json.dumps({"blob": "x" * (6 * 1024 * 1024)}).encode())
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"


# -- API keys -----------------------------------------------------------------------------------------------------

def get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_api_key_required_by_the_template(stack):
    keys = [k for k in stack.api_keys if k.usable]
    assert len(keys) == 1
    key = keys[0]
    url = f"{stack.api_server.url}/v1/keyed"
    assert get(url) == (403, {"message": "Forbidden"})
    assert get(url, {"x-api-key": "wrong"}) == (403, {"message": "Forbidden"})
    assert get(url, {"x-api-key": key.value}) == (200, {"apiKeyId": key.key_id})
    status, listed = get(f"{stack.endpoint_url}/_local/api-keys")
    assert status == 200
    assert listed == {key.logical_id: {"id": key.key_id, "value": key.value, "enabled": True, "usable": True,
                                       "description": "", "routes": ["GET /keyed"]}}
