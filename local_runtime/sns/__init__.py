"""Amazon SNS, emulated: moto keeps topics and delivers to SQS and http/https subscribers; Lambda subscribers, and the
check of http/https endpoints at Subscribe, are ours.

* ``models.py``: :class:`SnsFanout`, Lambda subscriptions and their deliveries; which http/https endpoints may be
  called;
* ``responses.py``: Subscribe, Unsubscribe and Publish requests (query protocol) read, answered or followed up;
* ``exceptions.py``: SNS's error codes.
"""
