"""SNS http/https subscriptions: the runtime delivers to loopback only, unless SNS_HTTP_ALLOWED_HOSTS allows a host.

Refused at Subscribe (``InvalidParameter``, as SNS names a parameter it refuses): a refused endpoint never becomes a
subscription, so no Publish can make the runtime call it. That a loopback endpoint is subscribed and delivered to
needs a listening socket: tests/local/test_sns_http_delivery.py.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from local_runtime.gateway import Gateway
from local_runtime.runtime import _client
from local_runtime.sns.models import SnsFanout


def sns_client(allowed: set[str] = frozenset()):
    gateway = Gateway()
    gateway.sns = SnsFanout(lambda *args, **kwargs: None, allowed_http_hosts=allowed)
    return _client("sns", f"http://127.0.0.1:{9 + len(allowed)}", gateway)  # in process: no socket


@pytest.mark.parametrize("endpoint", [
    "http://example.com/hook", "https://198.51.100.7/x", "http://127.0.0.1.example.com/", "http://10.0.0.1:8080/",
    "https://[2001:db8::1]/", "http://user@evil.example/", "not a url",
])
def test_an_endpoint_off_this_machine_is_refused_at_subscribe(endpoint):
    sns = sns_client()
    topic = sns.create_topic(Name="t-refused")["TopicArn"]
    with pytest.raises(ClientError) as raised:
        sns.subscribe(TopicArn=topic, Protocol="https" if endpoint.startswith("https") else "http",
                      Endpoint=endpoint)
    error = raised.value.response["Error"]
    assert (raised.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"]) == (400, "InvalidParameter")
    assert error["Message"].startswith("Invalid parameter: Endpoint")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == []


def test_an_allowed_host_is_subscribed():
    sns = sns_client({"hooks.example.com"})
    topic = sns.create_topic(Name="t-allowed")["TopicArn"]
    arn = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://HOOKS.example.com/in")["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://other.example.com/in")
