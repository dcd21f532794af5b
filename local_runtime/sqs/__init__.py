"""Amazon SQS, emulated: moto keeps the queues (visibility, receive counts, redrive to the dead-letter queue); message
move tasks (DLQ redrive), which moto does not implement, are ours.

* ``models.py``: :class:`MessageMoveTasks`, StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask;
* ``responses.py``: those operations' JSON requests read and answered;
* ``exceptions.py``: SQS's error codes, as its JSON protocol answers them;
* ``moto_patches.py``: our fixes to moto's SQS, and the one lock every SQS request holds (the event source
  mappings' pollers and the message move tasks rely on it).
"""
