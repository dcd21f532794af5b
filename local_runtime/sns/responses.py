"""SNS at the endpoint (query protocol, form-encoded ``Action=...``): what the runtime answers or does around moto's
answer (models.SnsFanout keeps the Lambda subscriptions).

* Subscribe with protocol ``lambda``, and Unsubscribe of such a subscription, are answered here (moto never holds a
  Lambda subscription); Subscribe with an http/https endpoint is checked first (``InvalidParameter`` when the
  runtime may not call it), then answered by moto; every other action is moto's.
* After moto has accepted a Publish or PublishBatch, its messages go to the topic's Lambda subscribers.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs

_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def subscription_call(fanout: Any, form_body: bytes) -> bytes | None:
    """The answer to Subscribe (protocol ``lambda``) and Unsubscribe of our subscriptions; None = moto's call. Raises
    InvalidParameter for an http/https endpoint the runtime may not call."""
    params = _form(form_body)
    action = params.get("Action")
    request_id = str(uuid.uuid4())
    if action == "Subscribe" and (params.get("Protocol") or "").lower() in ("http", "https"):
        fanout.check_http_endpoint(params.get("Endpoint") or "")
        return None
    if action == "Subscribe" and params.get("Protocol") == "lambda":
        attributes, n = {}, 1
        while f"Attributes.entry.{n}.key" in params:
            attributes[params[f"Attributes.entry.{n}.key"]] = params.get(f"Attributes.entry.{n}.value", "")
            n += 1
        subscription = fanout.subscribe(params["TopicArn"], params["Endpoint"], attributes)
        return (f'<SubscribeResponse xmlns="{_XMLNS}"><SubscribeResult><SubscriptionArn>{subscription.arn}'
                f'</SubscriptionArn></SubscribeResult><ResponseMetadata><RequestId>{request_id}</RequestId>'
                f'</ResponseMetadata></SubscribeResponse>').encode()
    if action == "Unsubscribe" and fanout.unsubscribe(params.get("SubscriptionArn")):
        return (f'<UnsubscribeResponse xmlns="{_XMLNS}"><ResponseMetadata><RequestId>'
                f'{request_id}</RequestId></ResponseMetadata></UnsubscribeResponse>').encode()
    return None


def after_publish(fanout: Any, form_body: bytes, response_body: bytes) -> int:
    """Deliver what moto accepted (``form_body`` = the query request, ``response_body`` = moto's answer); returns how
    many invokes were sent."""
    params = _form(form_body)
    action = params.get("Action")
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not fanout.has_subscribers(topic):
        return 0
    root = ET.fromstring(response_body)
    if action == "Publish":
        message_id = _find_text(root, "MessageId")
        return fanout.publish(topic, _message(params, ""), message_id) if message_id else 0
    if action == "PublishBatch":
        ids: dict[str, str] = {}
        for member in _iter(root, "Successful"):
            for item in list(member):
                ids[_find_text(item, "Id") or ""] = _find_text(item, "MessageId") or ""
        sent = 0
        n = 1
        while f"PublishBatchRequestEntries.member.{n}.Id" in params:
            prefix = f"PublishBatchRequestEntries.member.{n}."
            entry_id = params[prefix + "Id"]
            if ids.get(entry_id):
                sent += fanout.publish(topic, _message(params, prefix), ids[entry_id])
            n += 1
        return sent
    return 0


def _form(body: bytes) -> dict[str, str]:
    """A query-protocol request body as {name: first value}."""
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _message(params: dict[str, str], prefix: str) -> dict:
    attributes: dict[str, dict] = {}
    n = 1
    while f"{prefix}MessageAttributes.entry.{n}.Name" in params:
        base = f"{prefix}MessageAttributes.entry.{n}."
        data_type = params.get(base + "Value.DataType", "String")
        if base + "Value.BinaryValue" in params:
            value = params[base + "Value.BinaryValue"]
        else:
            value = params.get(base + "Value.StringValue", "")
        attributes[params[base + "Name"]] = {"Type": data_type, "Value": value}
        n += 1
    return {
        "Message": params.get(prefix + "Message", ""),
        "Subject": params.get(prefix + "Subject") or None,
        "MessageStructure": params.get(prefix + "MessageStructure"),
        "MessageAttributes": attributes,
    }


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _iter(root: ET.Element, name: str):
    for element in root.iter():
        if _local(element.tag) == name:
            yield element


def _find_text(root: ET.Element, name: str) -> str | None:
    for element in _iter(root, name):
        return element.text
    return None
