"""moto's server application as the gateway runs it: built once, with our fixes to moto applied first (this module's
moto-wide ones, then each service's: dynamodb/moto_patches.py, sqs/moto_patches.py). The same answers (but for the
random strings noted below), less CPU and memory. Each fix was found by profiling the runtime process under the
order workflow (docs/benchmarks.md):

* Every response's ``x-amzn-RequestId`` (52 characters) was drawn one ``random.choice`` at a time:
  ``get_random_string`` now draws them with one ``choices`` call on the same (seedable) generator (a seeded run
  still repeats itself, but its random strings differ from stock moto's for the same seed).
* moto appends every model object it creates (``BaseModel.__new__``) to a class-level list, for the dashboard of
  its own standalone server (``/moto-api/``, which this runtime does not serve), and never lets go of them. Reads
  create model objects too (a GetItem, Query or Scan deep-copies each item it returns), so a long-running process
  grew with every read: about 0.35 MB per Scan of 220 small items (5 GB after some 14,000 of them). Model objects
  are no longer tracked; the backends still hold everything they store.
* ``BaseResponse.call_action`` listed a handler class's methods with ``inspect.getmembers`` and converted the action
  name with regular expressions on every request: both are pure functions of their argument, now memoised.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

from local_runtime.dynamodb import moto_patches as dynamodb_patches
from local_runtime.sqs import moto_patches as sqs_patches

_applied = False
_lock = threading.Lock()


def apply_patches() -> None:
    """Every fix to moto, once per process (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
        _memoise_dispatch()
        _random_strings_in_one_draw()
        _untracked_model_instances()
    dynamodb_patches.apply()
    sqs_patches.apply()


def _memoise_dispatch() -> None:
    from moto.core import responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)
    responses.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(responses.camelcase_to_underscores)


def _random_strings_in_one_draw() -> None:
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    MotoRandom.get_random_string = get_random_string


def _untracked_model_instances() -> None:
    from moto.core.common_models import BaseModel

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign,assignment]
