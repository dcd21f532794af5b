"""Provisioning a resolved stack into moto (in process), and loading sample data."""
import json

import boto3
import pytest
from moto import mock_aws

from local_runtime.provision import load_sample_data, provision
from local_runtime.template import TemplateError, load_template

# In-process moto answers with AWS's own queue URLs; resolve the template against the same host.
ENDPOINT = "https://sqs.us-east-1.amazonaws.com"


@pytest.fixture
def aws():
    with mock_aws():
        yield lambda service: boto3.client(service, region_name="us-east-1")


def test_provision_creates_queues_with_redrive_and_tables(template_dir, aws):
    stack = load_template(template_dir / "template.yaml", endpoint_url=ENDPOINT)
    created = provision(stack, aws)
    assert created == ["Dlq", "Queue", "Table"]
    attributes = aws("sqs").get_queue_attributes(QueueUrl=stack.resources["Queue"].physical_id,
                                                 AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dofs-Dlq", "maxReceiveCount": 3}
    table = aws("dynamodb").describe_table(TableName="dofs-orders")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_sample_data_is_loaded_by_table_short_name(template_dir, tmp_path, aws):
    stack = load_template(template_dir / "template.yaml", endpoint_url=ENDPOINT)
    provision(stack, aws)
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"_comment": "ignored", "Table": [{"id": "a", "price": 1.5}, {"id": "b", "n": 2}]}))
    counts = load_sample_data(stack, data, boto3.resource("dynamodb", region_name="us-east-1"))
    assert counts == {"Table": 2}
    item = aws("dynamodb").get_item(TableName="dofs-orders", Key={"id": {"S": "a"}})["Item"]
    assert item == {"id": {"S": "a"}, "price": {"N": "1.5"}}


def test_sample_data_for_an_unknown_table_is_an_error(template_dir, tmp_path, aws):
    stack = load_template(template_dir / "template.yaml", endpoint_url=ENDPOINT)
    provision(stack, aws)
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"widgets": []}))
    with pytest.raises(TemplateError) as exc:
        load_sample_data(stack, data, boto3.resource("dynamodb", region_name="us-east-1"))
    assert exc.value.message == "Sample data key 'widgets' matches no table of the template"
