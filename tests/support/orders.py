"""Client-side helpers shared by the end-to-end and integration tests: place orders, wait for a terminal status."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

TERMINAL = {"FULFILLED", "FAILED"}
CLIENT_KEY = "CustomerApiKey"    # logical ids of the template's API keys
REVIEWER_KEY = "ReviewerApiKey"


@dataclass(frozen=True)
class Api:
    """The orders API of one stack (``url`` ends with the stage and a slash) called with one API key."""

    url: str
    key: str | None

    def headers(self, extra: dict | None = None) -> dict:
        return {**({"x-api-key": self.key} if self.key else {}), **(extra or {})}

    def post(self, path: str, body=None, *, data=None, headers: dict | None = None,
             session: requests.Session | None = None) -> requests.Response:
        http = session or requests
        return http.post(f"{self.url}{path}", json=body if data is None else None, data=data,
                         headers=self.headers(headers), timeout=30)

    def get(self, path: str, session: requests.Session | None = None) -> requests.Response:
        return (session or requests).get(f"{self.url}{path}", headers=self.headers(), timeout=30)

    def with_key(self, key: str | None) -> "Api":
        return Api(self.url, key)


def new_order_id(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def place_order(api: Api, body: dict, session: requests.Session | None = None) -> requests.Response:
    return api.post("orders", body, session=session)


def get_order(api: Api, order_id: str, session: requests.Session | None = None) -> requests.Response:
    return api.get(f"orders/{order_id}", session=session)


def wait_terminal(api: Api, order_ids: list[str], timeout: float = 60.0, table=None) -> dict[str, dict]:
    """Poll GET /orders/{id} until every order is FULFILLED or FAILED; return the last view of each order.

    Every status seen along the way is recorded under ``"_seen"`` so tests can check the path was truthful.
    Each GET is a Lambda invocation and a table read, so GETs are spent where they tell something: with ``table``
    (the orders table, a boto3 Table), one BatchGetItem per round shows which orders changed status, and only those
    are read through the API; without it each order is polled at its own pace, every 0.1 s backing off to 1 s.
    """
    deadline = time.monotonic() + timeout
    pending = set(order_ids)
    views: dict[str, dict] = {}
    seen: dict[str, list[str]] = {order_id: [] for order_id in order_ids}
    next_poll = {order_id: 0.0 for order_id in order_ids}
    interval = {order_id: 0.1 for order_id in order_ids}
    stored: dict[str, str | None] = {}  # the table's status at the last API read of each order
    with requests.Session() as session, ThreadPoolExecutor(max_workers=8) as pool:
        while pending and time.monotonic() < deadline:
            now = time.monotonic()
            if table is not None:
                current = _stored_statuses(table, sorted(pending))
                ids = sorted(i for i in pending if i not in stored or current.get(i) != stored[i]
                             or current.get(i) in TERMINAL)
            else:
                ids = sorted(i for i in pending if next_poll[i] <= now)
            for order_id, response in zip(ids, pool.map(lambda i: get_order(api, i, session), ids)):
                assert response.status_code == 200, (order_id, response.status_code, response.text)
                view = response.json()
                if not seen[order_id] or seen[order_id][-1] != view["status"]:
                    seen[order_id].append(view["status"])
                if view["status"] in TERMINAL:
                    views[order_id] = view
                    pending.discard(order_id)
                if table is not None:
                    stored[order_id] = current.get(order_id)
                next_poll[order_id] = time.monotonic() + interval[order_id]
                interval[order_id] = min(1.0, interval[order_id] * 1.5)
            if pending:
                pause = 0.1 if table is not None else min(next_poll[i] for i in pending) - time.monotonic()
                time.sleep(max(0.02, pause))
    if pending:
        raise AssertionError(f"{len(pending)} orders not terminal after {timeout} s: "
                             f"{ {i: seen[i] for i in sorted(pending)[:5]} }")
    for order_id in order_ids:
        views[order_id]["_seen"] = seen[order_id]
    return views


def _stored_statuses(table, order_ids: list[str]) -> dict[str, str]:
    """{order id: status} from the orders table for the ids that have a row (BatchGetItem, 100 keys a call)."""
    statuses: dict[str, str] = {}
    for start in range(0, len(order_ids), 100):
        request = {table.name: {"Keys": [{"order_id": i} for i in order_ids[start:start + 100]],
                                "ProjectionExpression": "order_id, #s", "ExpressionAttributeNames": {"#s": "status"},
                                "ConsistentRead": True}}
        while request:
            response = table.meta.client.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table.name, []):
                statuses[item["order_id"]] = item.get("status")
            request = response.get("UnprocessedKeys") or None
    return statuses
