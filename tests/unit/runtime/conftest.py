"""Fixtures of the runtime unit tests: a small SAM template exercising the loader."""
import json
import textwrap

import pytest

TEMPLATE = textwrap.dedent("""
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
      Rate: {Type: Number, Default: 0.7, MinValue: 0, MaxValue: 1}
      Names: {Type: CommaDelimitedList, Default: "a,b,c"}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Globals:
      Function:
        Runtime: python3.13
        Timeout: 10
        Layers: [!Ref Layer]
        Environment:
          Variables:
            POWERTOOLS_SERVICE_NAME: orders
    Resources:
      Layer:
        Type: AWS::Serverless::LayerVersion
        Properties: {ContentUri: layer/}
      Api:
        Type: AWS::Serverless::Api
        Properties:
          StageName: !Ref Stage
          Models:
            Order: {type: object, required: [a], properties: {a: {type: string}}}
      Table:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: !Sub "${AWS::StackName}-orders"
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
      Queue:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 60
          RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}
      Dlq:
        Type: AWS::SQS::Queue
      ProdOnlyTopic:
        Type: AWS::SNS::Topic
        Condition: IsProd
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
          Handler: app.lambda_handler
          Environment:
            Variables:
              TABLE: !Ref Table
              RATE: !Ref Rate
              SECOND: !Select [1, !Ref Names]
              JOINED: !Join ["-", [!Ref Stage, !If [IsProd, live, test]]]
              SPLIT: !Select [0, !Split [":", "x:y"]]
              QUEUE_NAME: !GetAtt Queue.QueueName
          Events:
            Post:
              Type: Api
              Properties: {RestApiId: !Ref Api, Path: /orders, Method: post,
                           RequestModel: {Model: Order, Required: true, ValidateBody: true}}
            Sqs:
              Type: SQS
              Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 5, FunctionResponseTypes: [ReportBatchItemFailures]}
      Machine:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionUri: sm/a.asl.json
          DefinitionSubstitutions:
            FnArn: !GetAtt Fn.Arn
          Policies:
            - LambdaInvokePolicy: {FunctionName: !Ref Fn}
    Outputs:
      ApiUrl:
        Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${Stage}/"
      MachineArn:
        Value: !Ref Machine
      QueueUrl:
        Value: !Ref Queue
""")


@pytest.fixture
def template_dir(tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "layer").mkdir()
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "a.asl.json").write_text(json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${FnArn}", "End": True}}}))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path
