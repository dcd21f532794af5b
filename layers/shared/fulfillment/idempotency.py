"""Powertools idempotency over the app's DynamoDB idempotency table (IDEMPOTENCY_TABLE_NAME).

One persistence layer per purpose (Powertools configures a layer once, with one key path), built lazily so
nothing reads the environment at import time.
"""

import random
import time
from typing import Any, Callable

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from fulfillment import config, repository
from fulfillment.errors import IdempotencyKeyReusedError, RequestInProgressError

EXPIRES_AFTER_SECONDS = 24 * 3600
_contexts: list[Any] = []


def register_lambda_context(context: Any) -> None:
    """Remember the Lambda context so in-progress records expire with the invocation (Powertools' advice)."""
    _contexts[:] = [context]


def _config(key_path: str, validation_path: str) -> IdempotencyConfig:
    settings = IdempotencyConfig(event_key_jmespath=key_path, payload_validation_jmespath=validation_path,
                                 raise_on_no_idempotency_key=True, expires_after_seconds=EXPIRES_AFTER_SECONDS)
    if _contexts:
        settings.register_lambda_context(_contexts[0])
    return settings


def _store(purpose: str) -> DynamoDBPersistenceLayer:
    key = f"idempotency:{purpose}"
    if key not in repository._clients:  # noqa: SLF001 - the repository owns every cached client
        repository._clients[key] = DynamoDBPersistenceLayer(  # noqa: SLF001
            table_name=config.require(config.IDEMPOTENCY_TABLE_NAME))
    return repository._clients[key]  # noqa: SLF001


def run_once(purpose: str, key_path: str, function: Callable[..., Any], request: dict,
             validation_path: str = "", wait_seconds: float = 0.0) -> Any:
    """``function(request=request)`` at most once per value of ``key_path`` in ``request``.

    A repeat returns the first call's result. A repeat while the first call runs waits up to ``wait_seconds``
    for its result, then raises RequestInProgressError; a repeat whose ``validation_path`` value differs raises
    IdempotencyKeyReusedError. A call that raises leaves no record, so it may be tried again.
    """
    settings = _config(key_path, validation_path)
    wrapped = idempotent_function(function, data_keyword_argument="request", persistence_store=_store(purpose),
                                  config=settings, key_prefix=f"dofs.{purpose}")
    deadline = time.monotonic() + wait_seconds
    pause = 0.05
    while True:
        try:
            return wrapped(request=request)
        except IdempotencyAlreadyInProgressError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestInProgressError("a request with this Idempotency-Key is in progress; retry") from exc
            # back off (50 ms doubling to 1 s, with jitter): waiting repeats must not crowd out the first call
            time.sleep(min(left, pause * random.uniform(0.5, 1.0)))
            pause = min(pause * 2, 1.0)
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReusedError("the Idempotency-Key was used with a different request body") from exc
