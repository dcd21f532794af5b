"""Fixes to moto's SQS, applied once when the gateway is built (gateway/moto_app.py): the same answers, less CPU, and
each request atomic, as on AWS. Each fix was found by profiling the runtime process under the order workflow
(docs/benchmarks.md), or by a race test (tests/local/test_request_path.py):

* SQS ReceiveMessage checked each message's retention period through ``get_queue_attributes``, which builds every
  attribute of the queue, message counts included (a pass over all its messages), twice: a receive cost
  O(messages x batch). The check now reads the queue's retention period directly.
* SendMessage (to read ``ContentBasedDeduplication``) and GetQueueAttributes (up to three times per attribute
  asked for) build every attribute of the queue, whose message counts each pass over all its messages and read
  the clock for every message (``Message.visible`` / ``delayed``: two datetime conversions each): a SendMessage
  cost 2.6 ms of CPU with 200 messages in the queue and 13 ms with 800. The counts and the list of receivable
  messages (``Queue.messages``) now read the clock once per pass and compare each message's times to it (the same
  tests, one instant for the whole pass).
* SQS had the same gap: two ReceiveMessage calls at once could both take the same message (in 7 of 10 rounds with
  thread switches forced), and one that iterated the in-flight set while another changed it answered 500
  ("Set changed size during iteration"). Every SQS request, and SNS's deliveries to SQS, now run under one lock,
  which a long poll gives up while it waits for messages.
  :data:`REQUESTS` is the one lock that guards SQS: the runtime's own SQS work takes it too (the event source
  mappings' pollers receive through the endpoint, the message move tasks of models.py call :func:`locked`).
* moto moves a message to its queue's dead-letter queue as is: :func:`record_dead_letter_sources` remembers where it
  came from, for a redrive without a destination (models.py).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from local_runtime.locks import Section, once

REQUESTS = Section()  # held by every SQS request from its parsed parameters to its answer; a long poll waits outside


@once
def apply() -> None:
    """Every fix of this module (idempotent)."""
    _direct_retention_check()
    _queue_passes_read_the_clock_once()
    atomic_requests()
    record_dead_letter_sources()


def locked(function: Callable[[], Any]) -> Any:
    """Run ``function`` on moto's SQS backends under :data:`REQUESTS`: between two SQS requests, never inside one."""
    return REQUESTS.run(function)


def _direct_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    original = SQSBackend.is_message_valid_based_on_retention_period

    @functools.wraps(original)
    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = getattr(self.get_queue(queue_name), "message_retention_period", None)
        if retention is None or message.sent_timestamp is None:
            return original(self, queue_name, message)
        return int(retention) + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def _queue_passes_read_the_clock_once() -> None:
    from moto.sqs import models

    # moto's tests, message by message: visible when now > visible_at; delayed when now < delayed_until
    def messages(self: Any) -> list:
        now = models.unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def not_visible(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    def delayed(self: Any) -> int:
        now = models.unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    models.Queue.messages = property(messages)
    models.Queue.approximate_number_of_messages_not_visible = property(not_visible)
    models.Queue.approximate_number_of_messages_delayed = property(delayed)


@once
def atomic_requests() -> None:
    """Every SQS request, and SNS's deliveries to SQS, under :data:`REQUESTS` (idempotent; the tests apply it to
    moto's in-process mock too)."""
    from moto.sqs.models import Queue, SQSBackend
    from moto.sqs.responses import SQSResponse

    SQSResponse.call_action = REQUESTS.around(SQSResponse.call_action)
    SQSBackend.send_message = REQUESTS.around(SQSBackend.send_message)  # SNS delivers to SQS by calling the backend
    original_wait = Queue.wait_for_messages

    @functools.wraps(original_wait)
    def wait_for_messages(self: Any, timeout: int) -> None:
        REQUESTS.wait_outside(original_wait, self, timeout)

    Queue.wait_for_messages = wait_for_messages


@once
def record_dead_letter_sources() -> None:
    """moto moves a message object to its queue's DLQ as is: remember the queue it came from, so that a redrive
    without DestinationArn sends it back there (AWS: "redriven back to their respective original source queues")."""
    from moto.sqs.models import Queue

    original = Queue.add_message

    def add_message(self: Any, message: Any) -> None:
        home = getattr(message, "queue_arn_of_record", None)
        if home is not None and home != self.queue_arn:
            message.dead_letter_source_arn = home
        message.queue_arn_of_record = self.queue_arn
        original(self, message)

    Queue.add_message = add_message
