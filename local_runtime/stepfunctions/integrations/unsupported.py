"""Resources AWS serves and this engine does not: activities (``arn:aws:states:...:activity:...``) and the optimized
integrations of services not emulated here (``arn:aws:states:::glue:startJobRun.sync``, ``ecs``, ``batch``,
``http:invoke``...). A definition naming one is accepted, as AWS accepts it; each attempt of the task fails with
``States.Runtime`` (Retry and Catch cannot handle it)."""
from __future__ import annotations

from ..failures import RUNTIME, StatesError
from ..payloads import Payload
from .base import TaskComponent
from .ports import Integrations, OnStart
from .resource import CALLBACK, REQUEST_RESPONSE, SYNC, SYNC2


class Unsupported(TaskComponent):
    patterns = frozenset({REQUEST_RESPONSE, CALLBACK, SYNC, SYNC2})
    __slots__ = ()

    def call(self, integrations: Integrations, parameters: Payload, on_start: OnStart) -> Payload:
        if on_start is not None:
            on_start()
        raise StatesError(RUNTIME, f"The resource {self.resource.arn} is not supported by the local runtime")


__all__ = ["Unsupported"]
