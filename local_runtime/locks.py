"""The lock that makes each request of a moto service atomic (dynamodb/moto_patches.py, sqs/moto_patches.py).

moto runs a request's checks and its writes as separate steps with nothing held between them, while the endpoint
serves requests on many threads; AWS makes each request atomic. A :class:`Section` is held from a request's parsed
parameters to its answer; a long poll gives it up while it waits.
"""
from __future__ import annotations

import functools
import threading
from typing import Any


class Section:
    """One lock, re-entrant within a thread, that its holder can give up while it waits (:meth:`wait_outside`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    def run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                return function(*args, **kwargs)
            finally:
                self._local.depth -= 1
        with self._lock:
            self._local.depth = 1
            try:
                return function(*args, **kwargs)
            finally:
                self._local.depth = 0

    def wait_outside(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(self._local, "depth", 0)
        if not depth:
            return function(*args, **kwargs)
        self._local.depth = 0
        self._lock.release()
        try:
            return function(*args, **kwargs)
        finally:
            self._lock.acquire()
            self._local.depth = depth

    def around(self, original: Any) -> Any:
        """``original`` made to run inside this section."""
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.run(original, *args, **kwargs)
        return wrapper


def once(function: Any) -> Any:
    """``function`` (no arguments) run at most once per process, however many threads call it: the fixes to moto are
    applied once. Marked done before it runs, so a fix that fails is not tried again."""
    lock = threading.Lock()
    done = False

    @functools.wraps(function)
    def wrapper() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
            function()

    return wrapper
