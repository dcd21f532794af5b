"""The ``stack`` the API scenarios run against.

By default the local runtime the end-to-end tests of this pytest worker share (``local_stack_factory``); with
``AWS_SAM_STACK_NAME`` set, the deployed CloudFormation stack of that name (its Outputs, real AWS clients).
"""
import os
from dataclasses import dataclass, field

import boto3
import pytest

from tests.support.orders import CLIENT_KEY, REVIEWER_KEY, Api


@dataclass
class Stack:
    outputs: dict
    where: str
    api_keys: dict[str, str]  # logical id of the template's API key -> value
    success_rate: float       # the stack's FulfillmentSuccessRate parameter
    client_kwargs: dict = field(default_factory=dict)

    def api(self, key: str = CLIENT_KEY) -> Api:
        """The orders API called with the template's API key ``key`` (a logical id; None sends no key)."""
        return Api(self.outputs["ApiUrl"], self.api_keys[key] if key else None)

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
        apigateway = boto3.client("apigateway")
        keys = {key: apigateway.get_api_key(apiKey=outputs[f"{key}Id"], includeValue=True)["value"]
                for key in (CLIENT_KEY, REVIEWER_KEY)}
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
        yield Stack(outputs, where=f"AWS stack {stack_name}", api_keys=keys,
                    success_rate=float(parameters["FulfillmentSuccessRate"]))
        return
    local = local_stack_factory({"FulfillmentSuccessRate": "1"}, time_scale=0.01)
    yield Stack(local.outputs, where="local runtime", api_keys=local.api_keys, success_rate=1.0, client_kwargs={
        "endpoint_url": local.endpoint, "region_name": "us-east-1",
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
