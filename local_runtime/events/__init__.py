"""Amazon EventBridge, emulated: moto keeps buses, rules and targets; PutEvents, rule matching and delivery are ours.

* ``models.py``: :class:`EventBridge`, PutEvents (validation, the event) and delivery to each matching rule's targets;
* ``targets.py``: :class:`TargetDelivery`, one payload to one target ARN (Lambda, Step Functions, SQS, SNS, bus, logs);
* ``responses.py``: PutEvents read and answered; the operations that change rules;
* ``exceptions.py``: EventBridge's error codes.

Rules' event patterns are matched by local_runtime/event_patterns.py, which Lambda's ``FilterCriteria`` share.
"""
