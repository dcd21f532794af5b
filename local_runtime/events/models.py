"""EventBridge event buses: PutEvents, rule matching and delivery to targets.

moto keeps buses, rules and targets (PutRule, PutTargets, ListRules, ...; provision.py creates the template's);
moto's own PutEvents delivers only to SQS and log groups and fails on Lambda or Step Functions targets, so the
endpoint answers ``AWSEvents.PutEvents`` here:

* validation as AWS does it: 1 to 10 entries; the entries' total size (Time 14 bytes, Source, DetailType, Detail
  and Resources in UTF-8 bytes) must be under 256 KB (``ValidationException``); per entry ``InvalidArgument`` for a
  missing Source/DetailType/Detail, ``MalformedDetail`` for a Detail that is not a JSON object,
  ``NotAuthorizedForSourceException`` for an ``aws.`` source, ``ResourceNotFoundException`` for an unknown bus;
* the event: ``version, id, detail-type, source, account, time, region, resources, detail``;
* every ENABLED rule of the bus whose pattern matches (event_patterns.py) sends to each of its targets, in a
  background thread (PutEvents answers before delivery, as on AWS). ``Input`` (constant JSON), ``InputPath`` and
  ``InputTransformer`` (``InputPathsMap`` + ``InputTemplate``, with ``<aws.events.rule-arn>``,
  ``<aws.events.rule-name>``, ``<aws.events.event>``, ``<aws.events.event.json>``,
  ``<aws.events.event.ingestion-time>``) shape the payload; targets.py delivers it.

Rules are read through the endpoint (ListRules, ListTargetsByRule) and cached; the endpoint drops the cache on every
call that changes rules or targets (responses.py). Differences: a failed delivery is logged, not retried for 24 hours, and goes to
no dead-letter queue; scheduled rules (``ScheduleExpression``) never fire; archives and replays are not emulated.
"""
from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from jsonpath_ng import Child, Fields, Index, Root
from jsonpath_ng.ext import parse as parse_jsonpath

from local_runtime import errors
from local_runtime.events.exceptions import InvalidEventPatternException
from local_runtime.event_patterns import matches_parsed, parse_pattern
from local_runtime.events.targets import TargetDelivery, dumps

logger = logging.getLogger(__name__)

MAX_ENTRIES = 10
MAX_ENTRIES_BYTES = 256 * 1024


def iso_time(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_size(entry: dict) -> int:
    """PutEventsRequestEntry size as the EventBridge user guide computes it."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if isinstance(entry.get(key), str):
            size += len(entry[key].encode())
    for resource in entry.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


class Rule:
    __slots__ = ("name", "arn", "pattern", "targets")

    def __init__(self, name: str, arn: str, pattern: dict, targets: list[dict]) -> None:
        self.name = name
        self.arn = arn
        self.pattern = pattern
        self.targets = targets


class EventBridge:
    def __init__(self, client: Callable[[str], Any], delivery: TargetDelivery, region: str = "us-east-1",
                 account_id: str = "123456789012", workers: int = 8) -> None:
        self.client = client
        self.delivery = delivery
        delivery.eventbridge = self
        self.region = region
        self.account_id = account_id
        self._rules: dict[str, list[Rule]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="eventbridge")
        self._in_flight = 0                  # accepted events whose rules and targets are still being worked out
        self._idle = threading.Condition(self._lock)

    # -- the API --------------------------------------------------------------------------------------------------

    def put_events(self, body: dict) -> dict:
        entries = body.get("Entries")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            raise errors.ValidationException(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have "
                f"length {'less than or equal to 10' if isinstance(entries, list) and entries else 'greater than or equal to 1'}")
        if sum(entry_size(e) for e in entries if isinstance(e, dict)) >= MAX_ENTRIES_BYTES:
            raise errors.ValidationException("Total size of the entries in the request is over the limit.")
        results, failed = [], 0
        for entry in entries:
            result, event, bus = self._accept(entry if isinstance(entry, dict) else {})
            results.append(result)
            if event is None:
                failed += 1
            else:
                with self._lock:
                    self._in_flight += 1
                self._pool.submit(self._dispatch_counted, event, bus)
        return {"FailedEntryCount": failed, "Entries": results}

    def drain(self, timeout: float) -> bool:
        """Wait until every accepted event has been matched against its bus's rules and handed to its targets (a
        Lambda target's asynchronous invoke is then accepted, not necessarily run). False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _dispatch_counted(self, event: dict, bus: str) -> None:
        try:
            self._dispatch_logged(event, bus)
        finally:
            with self._idle:
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.notify_all()

    def forward(self, event: dict, bus: str) -> None:
        """An event-bus target: the same event (same id) on another bus of this account."""
        self._dispatch(event, bus)

    def invalidate(self) -> None:
        with self._lock:
            self._rules.clear()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- entries --------------------------------------------------------------------------------------------------

    def _accept(self, entry: dict) -> tuple[dict, dict | None, str]:
        def fail(code: str, message: str) -> tuple[dict, None, str]:
            return {"ErrorCode": code, "ErrorMessage": message}, None, ""

        for key in ("Source", "DetailType", "Detail"):
            if not entry.get(key):
                return fail("InvalidArgument", f"Parameter {key} is not valid. Reason: {key} is a required argument.")
        if entry["Source"].startswith("aws."):
            return fail("NotAuthorizedForSourceException", "Not authorized for the source.")
        try:
            detail = json.loads(entry["Detail"])
        except (TypeError, ValueError):
            detail = None
        if not isinstance(detail, dict):
            return fail("MalformedDetail", "Detail is malformed.")
        bus = self._bus_name(entry.get("EventBusName"))
        if self._rules_of(bus) is None:
            return fail("ResourceNotFoundException", f"Event bus {bus} does not exist.")
        moment = entry.get("Time")
        if isinstance(moment, (int, float)):
            when = _dt.datetime.fromtimestamp(moment, _dt.timezone.utc)
        else:
            when = _dt.datetime.now(_dt.timezone.utc)
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"], "source": entry["Source"],
            "account": self.account_id, "time": iso_time(when), "region": self.region,
            "resources": list(entry.get("Resources") or []), "detail": detail,
        }
        return {"EventId": event["id"]}, event, bus

    @staticmethod
    def _bus_name(value: Any) -> str:
        if not value:
            return "default"
        value = str(value)
        return value.split("event-bus/", 1)[1] if value.startswith("arn:") and "event-bus/" in value else value

    # -- rules ----------------------------------------------------------------------------------------------------

    def _rules_of(self, bus: str) -> list[Rule] | None:
        """The bus's enabled rules (None when the bus does not exist)."""
        with self._lock:
            cached = self._rules.get(bus)
        if cached is not None:
            return cached
        events = self.client("events")
        try:
            events.describe_event_bus(Name=bus)
        except events.exceptions.ResourceNotFoundException:
            return None
        rules: list[Rule] = []
        token = None
        while True:
            page = events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
            for rule in page.get("Rules", []):
                if rule.get("State", "ENABLED") != "ENABLED" or not rule.get("EventPattern"):
                    continue
                try:
                    pattern = parse_pattern(rule["EventPattern"])
                except InvalidEventPatternException as exc:
                    logger.warning("rule %s: %s; it never matches", rule["Name"], exc)
                    continue
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", [])
                rules.append(Rule(rule["Name"], rule["Arn"], pattern, targets))
            token = page.get("NextToken")
            if not token:
                break
        with self._lock:
            self._rules[bus] = rules
        return rules

    # -- delivery -------------------------------------------------------------------------------------------------

    def _dispatch_logged(self, event: dict, bus: str) -> None:
        try:
            self._dispatch(event, bus)
        except Exception:  # a background delivery must never die silently
            logger.exception("EventBridge: dispatching event %s on %s failed", event.get("id"), bus)

    def _dispatch(self, event: dict, bus: str) -> None:
        for rule in self._rules_of(bus) or []:
            if not matches_parsed(rule.pattern, event):
                continue
            for target in rule.targets:
                try:
                    payload = render_input(target, event, rule)
                    self.delivery.deliver(target["Arn"], payload, event, target.get("SqsParameters"))
                except Exception as exc:
                    logger.warning("EventBridge rule %s: delivery of event %s to %s failed: %s: %s", rule.name,
                                   event["id"], target.get("Arn"), type(exc).__name__, exc)


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


@functools.lru_cache(maxsize=1024)
def _jsonpath(path: str) -> tuple[Any, bool]:
    """A target's JSONPath (``InputPath``, a value of ``InputPathsMap``) parsed, and whether it is definite (names
    one value: ``$.detail.items[0]``) rather than a query (wildcards, slices, ``..``, filters)."""
    def definite(node: Any) -> bool:
        if isinstance(node, Child):
            return definite(node.left) and definite(node.right)
        if isinstance(node, Fields):
            return len(node.fields) == 1 and node.fields[0] != "*"
        if isinstance(node, Index):
            return len(node.indices) == 1
        return isinstance(node, Root)

    parsed = parse_jsonpath(path)
    return parsed, definite(parsed)


def _select(path: str, event: dict) -> Any:
    """The value a definite path names (None where the event has none), or every value a query finds (a list)."""
    parsed, definite = _jsonpath(path)
    found = [match.value for match in parsed.find(event)]
    if definite:
        return found[0] if found else None
    return found


def render_input(target: dict, event: dict, rule: Rule | None = None) -> str:
    """The text a target receives: the event, ``Input``, ``InputPath`` or ``InputTransformer``."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        return dumps(_select(target["InputPath"], event))
    transformer = target.get("InputTransformer")
    if not transformer:
        return dumps(event)
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        values[name] = _select(path, event)
    predefined = {
        "aws.events.rule-arn": rule.arn if rule else None,
        "aws.events.rule-name": rule.name if rule else None,
        "aws.events.event": event,
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": event.get("time"),
    }
    template = transformer.get("InputTemplate", "")
    out, last, in_string, i = [], 0, False, 0
    # walk the template once, tracking whether a placeholder sits inside a JSON string
    for match in _PLACEHOLDER.finditer(template):
        segment = template[last:match.start()]
        while i < match.start():
            char = template[i]
            if char == "\\" and in_string:
                i += 2
                continue
            if char == '"':
                in_string = not in_string
            i += 1
        i = match.end()
        name = match.group(1)
        if name in values:
            value = values[name]
        elif name in predefined:
            value = predefined[name]
        else:
            out.append(segment + match.group(0))
            last = match.end()
            continue
        if in_string:
            text = value if isinstance(value, str) else dumps(value)
            text = json.dumps(text, ensure_ascii=False)[1:-1]
        else:
            text = dumps(value)
        out.append(segment + text)
        last = match.end()
    out.append(template[last:])
    return "".join(out)
