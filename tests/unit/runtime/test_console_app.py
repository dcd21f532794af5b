"""The console's WSGI application without a browser: what it serves, what it refuses, the Express record's bound."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from werkzeug.test import Client

from local_runtime.console import VENDOR, Console
from local_runtime.console.express import ExpressRecord


class FakeClient:
    def __init__(self):
        self.calls = []

    def list_state_machines(self, **params):
        self.calls.append(params)
        return {"stateMachines": [{"name": "m", "creationDate": datetime(2024, 1, 1, tzinfo=timezone.utc)}],
                "ResponseMetadata": {"HTTPStatusCode": 200}}


@pytest.fixture
def console():
    client = FakeClient()
    gateway = SimpleNamespace(status={"stack": "s", "timeScale": 0.5}, outputs={"ApiUrl": "http://127.0.0.1:9/dev/"},
                              api_keys={"ReviewerApiKey": {"value": "secret-value", "description": "d", "routes": [],
                                                           "usable": True}})
    app = Console(lambda service: client, gateway, ExpressRecord(limit=2))
    return Client(app), client


def post(http, route, body, **headers):
    return http.post(f"/_local/console/api/{route}", json=body, headers={"X-DOFS-Console": "1", **headers})


def test_the_page_and_its_files_are_served_and_nothing_outside_them(console):
    http, _ = console
    assert http.get("/_local/console").status_code == 308
    page = http.get("/_local/console/")
    assert page.status_code == 200 and b'src="vendor/elk.bundled.js"' in page.data
    assert http.get("/_local/console/static/app.js").headers["Content-Type"].startswith("text/javascript")
    assert http.get("/_local/console/static/../__init__.py").status_code == 404
    assert http.get("/_local/console/static/%2e%2e/express.py").status_code == 404
    assert http.get("/_local/console/vendor/elk-worker.js").status_code == 404  # only the files the page loads
    vendor = http.get("/_local/console/vendor/elk.bundled.js")
    assert vendor.status_code == (200 if VENDOR["elk.bundled.js"].is_file() else 503)


def test_aws_calls_are_allow_listed_and_answered_as_json(console):
    http, client = console
    answer = post(http, "aws", {"service": "stepfunctions", "operation": "ListStateMachines", "params": {"maxResults": 5}})
    assert answer.json == {"stateMachines": [{"name": "m", "creationDate": 1704067200.0}]}
    assert client.calls == [{"maxResults": 5}]
    refused = post(http, "aws", {"service": "stepfunctions", "operation": "DeleteStateMachine", "params": {}})
    assert (refused.status_code, refused.json["error"]["Code"]) == (403, "AccessDenied")
    assert client.calls == [{"maxResults": 5}]


def test_requests_from_elsewhere_are_refused(console):
    http, _ = console
    body = {"service": "stepfunctions", "operation": "ListStateMachines", "params": {}}
    assert http.post("/_local/console/api/aws", json=body).status_code == 403  # no X-DOFS-Console header
    assert post(http, "aws", body, Origin="http://attacker.test").status_code == 403
    assert post(http, "aws", body, Origin="http://localhost").status_code == 200
    assert http.post("/_local/console/api/aws", json=body, headers={"X-DOFS-Console": "1", "Host": "attacker.test"}
                     ).status_code == 403
    assert http.open("/_local/console/api/aws", method="OPTIONS", headers={"Origin": "http://attacker.test"}
                     ).headers.get("Access-Control-Allow-Origin") is None


def test_config_names_the_api_keys_without_their_values(console):
    http, _ = console
    config = http.get("/_local/console/api/config")
    assert config.json["apiKeys"] == {"ReviewerApiKey": {"description": "d", "routes": [], "usable": True}}
    assert b"secret-value" not in config.data
    assert config.json["timeScale"] == 0.5


def test_app_requests_stay_relative_to_the_api_url(console):
    http, _ = console
    for path in ("http://example.com/", "//example.com/x", "orders/../../x", "orders/a?b=c"):
        assert post(http, "app", {"method": "GET", "path": path}).status_code == 400, path
    assert post(http, "app", {"method": "DELETE", "path": "orders"}).status_code == 400
    assert post(http, "app", {"method": "GET", "path": "orders", "key": "NoSuchKey"}).status_code == 400


def _execution(arn, machine="arn:aws:states:us-east-1:1:stateMachine:q", kind="EXPRESS"):
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    history = SimpleNamespace(events=lambda: [{"id": 1, "type": "ExecutionStarted", "timestamp": now}])
    return SimpleNamespace(type=kind, arn=arn, state_machine_arn=machine, name=arn[-1], status="SUCCEEDED",
                           start_date=now, stop_date=now, input="{}", output="{}", error=None, cause=None,
                           history=history)


def test_the_express_record_keeps_the_last_executions_of_each_machine():
    record = ExpressRecord(limit=2)
    for arn in ("arn:1", "arn:2", "arn:3"):
        record.on_finished(_execution(arn))
    record.on_finished(_execution("arn:S", kind="STANDARD"))
    machine = "arn:aws:states:us-east-1:1:stateMachine:q"
    assert [e["executionArn"] for e in record.list(machine)] == ["arn:3", "arn:2"]
    assert record.get("arn:1") is None and record.get("arn:S") is None
    assert record.get("arn:3")["events"] == [{"id": 1, "type": "ExecutionStarted", "timestamp": 1704067200.0}]
    assert len(record) == 2
