"""The endpoint's route table: which handler of the gateway answers which request.

A request goes to the first route whose every condition holds (path prefix or pattern, HTTP method, the JSON
protocols' ``X-Amz-Target`` service prefix and operations, the query protocol's signing service), else to moto,
which serves every other AWS operation. Routes of AWS requests (``aws``) are checked against botocore's model of
their service first (protocols.py) and counted in ``/_local/stats``; the runtime's own routes (``/_local/...``) are
not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from local_runtime.awslambda.responses import INVOKE_PATH
from local_runtime.events.responses import RULE_CHANGING_ACTIONS
from local_runtime.protocols import signing_service
from local_runtime.sqs.responses import ACTIONS as SQS_MESSAGE_MOVE_ACTIONS


@dataclass(frozen=True)
class Route:
    """A handler of the gateway (a method name) and the requests it answers: every condition given must hold."""

    handler: str
    path_prefix: str | None = None  # PATH_INFO starts with it
    path: re.Pattern | None = None  # PATH_INFO matches it; its named groups are the handler's arguments
    method: str | None = None  # REQUEST_METHOD
    target: str | None = None  # X-Amz-Target is "<target>.<operation>"; the operation is the handler's argument
    operations: frozenset[str] | None = None  # with target: only these operations (None: any)
    signing_service: str | None = None  # the SigV4 credential scope names this service (query protocol: SNS)
    aws: bool = True  # an AWS request: checked against its service's model and counted, before the handler
    counted: bool = True  # False: the handler counts the request itself (with the Action of its body)

    def match(self, environ: dict) -> dict | None:
        """The handler's arguments when the request is this route's, else None."""
        arguments: dict = {}
        if self.method is not None and environ.get("REQUEST_METHOD") != self.method:
            return None
        path = environ.get("PATH_INFO", "")
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return None
        if self.path is not None:
            found = self.path.match(path)
            if found is None:
                return None
            arguments.update(found.groupdict())
        if self.target is not None:
            prefix, dot, operation = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
            if prefix != self.target or not dot or (self.operations is not None and operation not in self.operations):
                return None
            arguments["operation"] = operation
        if self.signing_service is not None and signing_service(environ) != self.signing_service:
            return None
        return arguments


MOTO = Route("moto")  # every request no route of ROUTES takes

ROUTES: tuple[Route, ...] = (
    Route("console", path_prefix="/_local/console", aws=False),  # the local console (local_runtime/console/)
    Route("local", path_prefix="/_local/", aws=False),  # health, outputs, api-keys, stats
    Route("sns", method="POST", signing_service="sns", counted=False),  # moto, plus Lambda subscribers (sns/)
    Route("stepfunctions", target="AWSStepFunctions"),  # our engine (stepfunctions/)
    Route("sqs_message_move_task", target="AmazonSQS", operations=frozenset(SQS_MESSAGE_MOVE_ACTIONS)),  # sqs/
    Route("lambda_invoke", method="POST", path=INVOKE_PATH),  # our workers (awslambda/)
    Route("put_events", target="AWSEvents", operations=frozenset({"PutEvents"})),  # our delivery (events/)
    Route("rule_change", target="AWSEvents", operations=RULE_CHANGING_ACTIONS),  # moto, then the rule cache dropped
)


def route(environ: dict, routes: tuple[Route, ...] = ROUTES) -> tuple[Route, dict]:
    """The route of a request and its handler's arguments (MOTO, {} when no route takes it)."""
    for candidate in routes:
        arguments = candidate.match(environ)
        if arguments is not None:
            return candidate, arguments
    return MOTO, {}
