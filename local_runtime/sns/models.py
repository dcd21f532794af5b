"""SNS topics deliver to Lambda subscribers.

moto keeps topics and delivers to SQS subscriptions itself (the SNS JSON envelope, or the raw message with
``RawMessageDelivery``; filter policies applied). moto would hand a ``lambda`` subscription to moto's own Lambda
(Docker), so Lambda subscriptions live here instead: provision.py registers the template's
(``AWS::SNS::Subscription`` with ``Protocol: lambda``, SAM ``Events: Type: SNS``, a topic's inline ``Subscription``)
and the endpoint calls :meth:`SnsFanout.publish` for each message moto has accepted (responses.py).

Each Lambda subscriber whose filter policy matches (moto's matcher, ``FilterPolicyScope`` MessageAttributes or
MessageBody) gets an asynchronous invoke with the event Lambda documents for SNS: ``{"Records": [{"EventVersion",
"EventSubscriptionArn", "EventSource": "aws:sns", "Sns": {"Type": "Notification", "MessageId", "TopicArn", "Subject",
"Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes":
{name: {"Type", "Value"}}}}]}``. ``MessageStructure=json`` picks the ``lambda`` key, else ``default``. Subscribe
calls with protocol ``lambda`` (and Unsubscribe of such subscriptions) are answered by the runtime too
(responses.py), so moto never holds a Lambda subscription. Differences: the signature is not a real one; such
subscriptions are missing from ListSubscriptions.

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
from dataclasses import dataclass
from urllib.parse import urlsplit

from local_runtime.awslambda.interface import Invoke
from local_runtime.sns.exceptions import InvalidParameter

logger = logging.getLogger(__name__)


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
    """Lambda subscriptions of topics and their deliveries (asynchronous invokes)."""

    def __init__(self, invoke: Invoke, region: str = "us-east-1",
                 allowed_http_hosts: frozenset[str] | set[str] = frozenset()) -> None:
        self.invoke = invoke
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

    def unsubscribe(self, subscription_arn: str | None) -> bool:
        """Forget one of our subscriptions; False when it is not ours (moto's)."""
        with self._lock:
            for subscriptions in self.subscriptions.values():
                for subscription in list(subscriptions):
                    if subscription.arn == subscription_arn:
                        subscriptions.remove(subscription)
                        return True
        return False

    def check_http_endpoint(self, endpoint: str) -> None:
        """An http/https endpoint the runtime may POST to; raises InvalidParameter otherwise."""
        check_http_endpoint(endpoint, self.allowed_http_hosts)

    def has_subscribers(self, topic_arn: str | None) -> bool:
        return bool(topic_arn) and bool(self.subscriptions.get(topic_arn))

    # -- publish --------------------------------------------------------------------------------------------------

    def publish(self, topic: str, message: dict, message_id: str) -> int:
        """Deliver one message moto accepted (``Message``, ``Subject``, ``MessageStructure``, ``MessageAttributes``)
        to the topic's Lambda subscribers whose filter policy matches; returns how many invokes were sent."""
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
                self.invoke(subscription.function_arn, event, invocation_type="Event")
                sent += 1
            except Exception as exc:
                logger.warning("SNS: delivery of %s to %s failed: %s: %s", message_id, subscription.function_arn,
                               type(exc).__name__, exc)
        return sent
