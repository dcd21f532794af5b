"""The ``stack`` the API scenarios run against.

By default the local runtime the end-to-end tests of this pytest worker share (``local_stack_factory``); with
``AWS_SAM_STACK_NAME`` set, the deployed CloudFormation stack of that name (its Outputs, real AWS clients).
"""
import os
from dataclasses import dataclass, field

import boto3
import pytest



@dataclass
class Stack:
    outputs: dict
    where: str
    client_kwargs: dict = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.outputs["ApiUrl"]

    def client(self, service: str):
        return boto3.client(service, **self.client_kwargs)

    def table(self, output_key: str):
        return boto3.resource("dynamodb", **self.client_kwargs).Table(self.outputs[output_key])


@pytest.fixture(scope="session")
def stack(local_stack_factory):
    stack_name = os.environ.get("AWS_SAM_STACK_NAME")
    if stack_name:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        yield Stack(outputs, where=f"AWS stack {stack_name}")
        return
    local = local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)
    yield Stack(local.outputs, where="local runtime", client_kwargs={
        "endpoint_url": local.endpoint, "region_name": "us-east-1",
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
