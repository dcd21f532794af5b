"""Amazon SQS, emulated: moto keeps the queues (visibility, receive counts, redrive to the dead-letter queue); message
move tasks (DLQ redrive), which moto does not implement, are ours.

* ``models.py``: :class:`MessageMoveTasks`, StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.
"""
