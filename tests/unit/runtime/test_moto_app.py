"""moto's application as the gateway runs it (local_runtime/gateway/moto_app.py)."""
from __future__ import annotations

import pytest

from local_runtime.gateway import Gateway
from local_runtime.gateway.moto_app import BACKEND_LOOKUP_CACHE, MotoApp, _memoize_backend_lookup
from local_runtime.runtime import _client


class CountingDispatcher:
    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def get_backend_for_host(self, host: str | None) -> str | None:
        self.asked.append(host)
        return None if host is None else host.split(".", 1)[0]


def test_backend_lookup_is_remembered_for_a_bounded_number_of_hosts():
    dispatcher = CountingDispatcher()
    _memoize_backend_lookup(dispatcher)
    lookup = dispatcher.get_backend_for_host
    assert lookup("sqs.us-east-1.amazonaws.com") == "sqs"
    assert lookup("sqs.us-east-1.amazonaws.com") == "sqs"
    assert dispatcher.asked == ["sqs.us-east-1.amazonaws.com"]  # the second answer came from the memo

    hosts = [f"sqs.region-{i}.amazonaws.com" for i in range(3 * BACKEND_LOOKUP_CACHE)]
    assert [lookup(host) for host in hosts] == ["sqs"] * len(hosts)
    assert lookup.cache_info().currsize == BACKEND_LOOKUP_CACHE
    dispatcher.asked.clear()
    assert lookup(hosts[-1]) == "sqs"  # recent: still remembered
    assert lookup(hosts[0]) == "sqs"  # long evicted: asked again, same answer
    assert dispatcher.asked == [hosts[0]]


def test_moto_backend_lookup_over_many_regions_stays_bounded_and_right():
    lookup = MotoApp().app.get_backend_for_host
    for i in range(2 * BACKEND_LOOKUP_CACHE):
        assert lookup(f"sqs.region-{i}.amazonaws.com") == "sqs"
        assert lookup(f"dynamodb.region-{i}.amazonaws.com") == "dynamodb"
    assert lookup.cache_info().currsize == BACKEND_LOOKUP_CACHE
    assert lookup("sqs.us-east-1.amazonaws.com") == "sqs"


def test_sns_post_is_answered_without_flask_as_flask_answered_it(monkeypatch):
    from flask import Flask

    gateway = Gateway()
    sns = _client("sns", "http://127.0.0.1:7", gateway)
    arn = sns.create_topic(Name="without-flask")["TopicArn"]
    through_flask: list[str] = []
    wsgi_app = Flask.wsgi_app

    def recorded(self, environ, start_response):
        through_flask.append(environ["PATH_INFO"])
        return wsgi_app(self, environ, start_response)

    monkeypatch.setattr(Flask, "wsgi_app", recorded)
    assert sns.publish(TopicArn=arn, Message="m")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sns.list_topics()["Topics"].count({"TopicArn": arn}) == 1
    with pytest.raises(sns.exceptions.NotFoundException) as missing:  # moto's HTTP exception, answered as itself
        sns.publish(TopicArn=arn + "-missing", Message="m")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert through_flask == []
