"""Client-side helpers shared by the end-to-end and integration tests: place orders, wait for a terminal status."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

TERMINAL = {"FULFILLED", "FAILED"}


def new_order_id(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def place_order(api_url: str, body: dict, session: requests.Session | None = None) -> requests.Response:
    http = session or requests
    return http.post(f"{api_url}orders", json=body, timeout=30)


def get_order(api_url: str, order_id: str, session: requests.Session | None = None) -> requests.Response:
    http = session or requests
    return http.get(f"{api_url}orders/{order_id}", timeout=30)


def wait_terminal(api_url: str, order_ids: list[str], timeout: float = 60.0) -> dict[str, dict]:
    """Poll GET /orders/{id} until every order is FULFILLED or FAILED; return the last view of each order.

    Every status seen along the way is recorded under ``"_seen"`` so tests can check the path was truthful.
    Each order is polled at its own pace, every 0.1 s at first and backing off to every 1 s: each GET is a Lambda
    invocation and a table read, and polling a hundred orders every 0.1 s would be most of the stack's work.
    """
    deadline = time.monotonic() + timeout
    pending = set(order_ids)
    views: dict[str, dict] = {}
    seen: dict[str, list[str]] = {order_id: [] for order_id in order_ids}
    next_poll = {order_id: 0.0 for order_id in order_ids}
    interval = {order_id: 0.1 for order_id in order_ids}
    with requests.Session() as session, ThreadPoolExecutor(max_workers=8) as pool:
        while pending and time.monotonic() < deadline:
            now = time.monotonic()
            ids = sorted(i for i in pending if next_poll[i] <= now)
            for order_id, response in zip(ids, pool.map(lambda i: get_order(api_url, i, session), ids)):
                assert response.status_code == 200, (order_id, response.status_code, response.text)
                view = response.json()
                if not seen[order_id] or seen[order_id][-1] != view["status"]:
                    seen[order_id].append(view["status"])
                if view["status"] in TERMINAL:
                    views[order_id] = view
                    pending.discard(order_id)
                next_poll[order_id] = time.monotonic() + interval[order_id]
                interval[order_id] = min(1.0, interval[order_id] * 1.5)
            if pending:
                time.sleep(max(0.02, min(next_poll[i] for i in pending) - time.monotonic()))
    if pending:
        raise AssertionError(f"{len(pending)} orders not terminal after {timeout} s: "
                             f"{ {i: seen[i] for i in sorted(pending)[:5]} }")
    for order_id in order_ids:
        views[order_id]["_seen"] = seen[order_id]
    return views
