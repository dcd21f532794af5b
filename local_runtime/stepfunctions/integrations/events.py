"""Amazon EventBridge, optimized: ``arn:aws:states:::events:putEvents[.waitForTaskToken]``; an entry's JSON
``Detail`` is sent as its compact text."""
from __future__ import annotations

from ..payloads import dumps
from .aws import OptimizedIntegration


class EventBridgePutEvents(OptimizedIntegration):
    client_name, error_prefix, service_id = "events", "EventBridge", "AmazonEventBridge"
    operations = {"putEvents": "PutEvents"}
    __slots__ = ()

    def shape(self, params: dict) -> dict:
        entries = [dict(entry, Detail=dumps(entry["Detail"]))
                   if isinstance(entry, dict) and "Detail" in entry and not isinstance(entry["Detail"], str)
                   else entry for entry in params.get("Entries", [])]
        return {**params, "Entries": entries}
