"""SNS http/https subscriptions, the delivery half (it needs a listening socket, so it is no unit test): a loopback
endpoint is subscribed and delivered to. The refusals are in tests/unit/runtime/test_sns_http.py."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from local_runtime.gateway import Gateway
from local_runtime.runtime import _client
from local_runtime.sns.models import SnsFanout


def sns_client():
    gateway = Gateway()
    gateway.sns = SnsFanout(lambda *args, **kwargs: None)
    return _client("sns", "http://127.0.0.1:9", gateway)  # the SNS API in process; the delivery is real HTTP


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []
    got = threading.Event()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        type(self).got.set()

    def log_message(self, *args) -> None:
        pass


def test_a_loopback_endpoint_is_subscribed_and_delivered_to():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sns = sns_client()
        topic = sns.create_topic(Name="t-loopback")["TopicArn"]
        url = f"http://127.0.0.1:{server.server_port}/hook"
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://localhost:{server.server_port}/other")
        sns.publish(TopicArn=topic, Message="hello")
        assert _Receiver.got.wait(10)
        assert {b["Message"] for b in _Receiver.bodies} == {"hello"}
        assert {b["TopicArn"] for b in _Receiver.bodies} == {topic}
    finally:
        server.shutdown()
        server.server_close()
