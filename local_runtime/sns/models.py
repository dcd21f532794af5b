"""SNS topics deliver to Lambda subscribers.

moto keeps topics and delivers to SQS subscriptions itself (the SNS JSON envelope, or the raw message with
``RawMessageDelivery``; filter policies applied). moto would hand a ``lambda`` subscription to moto's own Lambda
(Docker), so Lambda subscriptions live here instead: provision.py registers the template's
(``AWS::SNS::Subscription`` with ``Protocol: lambda``, SAM ``Events: Type: SNS``, a topic's inline ``Subscription``)
and the endpoint calls :meth:`SnsFanout.after_publish` once moto has accepted a Publish or PublishBatch.

Each Lambda subscriber whose filter policy matches (moto's matcher, ``FilterPolicyScope`` MessageAttributes or
MessageBody) gets an asynchronous invoke with the event Lambda documents for SNS: ``{"Records": [{"EventVersion",
"EventSubscriptionArn", "EventSource": "aws:sns", "Sns": {"Type": "Notification", "MessageId", "TopicArn",
"Subject", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl",
"MessageAttributes": {name: {"Type", "Value"}}}}]}``. ``MessageStructure=json`` picks the ``lambda`` key, else
``default``. Subscribe calls with protocol ``lambda`` (and Unsubscribe of such subscriptions) are answered here too,
so moto never holds a Lambda subscription. Differences: the signature is not a real one; such subscriptions are
missing from ListSubscriptions.

``http``/``https`` subscriptions are delivered by moto (a POST per message), so the runtime would call any URL a
Subscribe names. Subscribe accepts such an endpoint only on a loopback host (``localhost``, 127.0.0.0/8, ``::1``) or
on a host listed in ``SNS_HTTP_ALLOWED_HOSTS`` (``*``: any); any other is refused with ``InvalidParameter`` and
never reaches moto, so nothing is ever delivered off the machine unless allowed.
"""
from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import json
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from local_runtime.sns.exceptions import InvalidParameter

logger = logging.getLogger(__name__)

_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


@dataclass
class LambdaSubscription:
    arn: str
    topic_arn: str
    function_arn: str
    filter_policy: dict | None = None
    filter_policy_scope: str = "MessageAttributes"


def _timestamp() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_endpoint(endpoint: str, allowed_hosts: frozenset[str]) -> None:
    """An http/https subscription endpoint the runtime may POST to; raises InvalidParameter otherwise."""
    try:
        host = urlsplit(endpoint).hostname
    except ValueError:
        host = None
    if not host:
        raise InvalidParameter("Invalid parameter: Endpoint must be an http or https URL")
    if is_loopback(host) or "*" in allowed_hosts or host.lower() in allowed_hosts:
        return
    raise InvalidParameter(f"Invalid parameter: Endpoint Reason: the local runtime delivers http/https "
                           f"subscriptions to loopback hosts only; {host[:100]} is not one (SNS_HTTP_ALLOWED_HOSTS "
                           f"lists the hosts it may call)")


class SnsFanout:
    def __init__(self, invoke_async: Callable[[str, bytes], Any], region: str = "us-east-1",
                 allowed_http_hosts: frozenset[str] | set[str] = frozenset()) -> None:
        self.invoke_async = invoke_async
        self.region = region
        self.allowed_http_hosts = frozenset(host.lower() for host in allowed_http_hosts)
        self.subscriptions: dict[str, list[LambdaSubscription]] = {}
        self._lock = threading.Lock()

    # -- subscriptions --------------------------------------------------------------------------------------------

    def subscribe(self, topic_arn: str, function_arn: str, attributes: dict | None = None) -> LambdaSubscription:
        attributes = attributes or {}
        policy = attributes.get("FilterPolicy")
        if isinstance(policy, str):
            policy = json.loads(policy) if policy.strip() else None
        subscription = LambdaSubscription(f"{topic_arn}:{uuid.uuid4()}", topic_arn, function_arn, policy or None,
                                          attributes.get("FilterPolicyScope") or "MessageAttributes")
        with self._lock:
            self.subscriptions.setdefault(topic_arn, []).append(subscription)
        return subscription

    def handle_subscription_call(self, form_body: bytes) -> bytes | None:
        """Subscribe (protocol ``lambda``) and Unsubscribe of our subscriptions; None = moto's call. Raises
        InvalidParameter for an http/https endpoint the runtime may not call."""
        params = _form(form_body)
        action = params.get("Action")
        request_id = str(uuid.uuid4())
        if action == "Subscribe" and (params.get("Protocol") or "").lower() in ("http", "https"):
            check_http_endpoint(params.get("Endpoint") or "", self.allowed_http_hosts)
            return None
        if action == "Subscribe" and params.get("Protocol") == "lambda":
            attributes, n = {}, 1
            while f"Attributes.entry.{n}.key" in params:
                attributes[params[f"Attributes.entry.{n}.key"]] = params.get(f"Attributes.entry.{n}.value", "")
                n += 1
            subscription = self.subscribe(params["TopicArn"], params["Endpoint"], attributes)
            return (f'<SubscribeResponse xmlns="{_XMLNS}"><SubscribeResult><SubscriptionArn>{subscription.arn}'
                    f'</SubscriptionArn></SubscribeResult><ResponseMetadata><RequestId>{request_id}</RequestId>'
                    f'</ResponseMetadata></SubscribeResponse>').encode()
        if action == "Unsubscribe":
            arn = params.get("SubscriptionArn")
            with self._lock:
                for subscriptions in self.subscriptions.values():
                    for subscription in list(subscriptions):
                        if subscription.arn == arn:
                            subscriptions.remove(subscription)
                            return (f'<UnsubscribeResponse xmlns="{_XMLNS}"><ResponseMetadata><RequestId>'
                                    f'{request_id}</RequestId></ResponseMetadata></UnsubscribeResponse>').encode()
        return None

    def has_subscribers(self, topic_arn: str | None) -> bool:
        return bool(topic_arn) and bool(self.subscriptions.get(topic_arn))

    # -- publish --------------------------------------------------------------------------------------------------

    def after_publish(self, form_body: bytes, response_body: bytes) -> int:
        """Deliver what moto accepted (``form_body`` = the query request); returns how many invokes were sent."""
        params = _form(form_body)
        action = params.get("Action")
        topic = params.get("TopicArn") or params.get("TargetArn")
        if not self.has_subscribers(topic):
            return 0
        root = ET.fromstring(response_body)
        if action == "Publish":
            message_id = _find_text(root, "MessageId")
            return self._fan_out(topic, _message(params, ""), message_id) if message_id else 0
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
                    sent += self._fan_out(topic, _message(params, prefix), ids[entry_id])
                n += 1
            return sent
        return 0

    def _fan_out(self, topic: str, message: dict, message_id: str) -> int:
        from moto.sns.utils import FilterPolicyMatcher

        subscriptions = list(self.subscriptions.get(topic, ()))
        if not subscriptions:
            return 0
        text = message["Message"]
        if message.get("MessageStructure") == "json":  # one text for every Lambda subscriber: the "lambda" key
            try:
                structured = json.loads(text)
                text = structured.get("lambda", structured.get("default", ""))
            except (ValueError, AttributeError):
                logger.warning("SNS: MessageStructure json but the message is not a JSON object")
                return 0
        sent = 0
        for subscription in subscriptions:
            if subscription.filter_policy:
                matcher = FilterPolicyMatcher(subscription.filter_policy, subscription.filter_policy_scope)
                if not matcher.matches(message["MessageAttributes"], text):
                    continue
            event = {"Records": [{
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": "1",
                    "Timestamp": _timestamp(),
                    "Signature": base64.b64encode(uuid.uuid4().bytes * 8).decode(),
                    "SigningCertUrl": f"https://sns.{self.region}.amazonaws.com/SimpleNotificationService-local.pem",
                    "MessageId": message_id,
                    "Message": text,
                    "MessageAttributes": message["MessageAttributes"],
                    "Type": "Notification",
                    "UnsubscribeUrl": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                                      f"{subscription.arn}",
                    "TopicArn": topic,
                    "Subject": message.get("Subject"),
                },
            }]}
            try:
                self.invoke_async(subscription.function_arn, json.dumps(event).encode())
                sent += 1
            except Exception as exc:
                logger.warning("SNS: delivery of %s to %s failed: %s: %s", message_id, subscription.function_arn,
                               type(exc).__name__, exc)
        return sent


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
