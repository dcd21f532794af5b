"""moto's Step Functions engine as the differential tests' reference."""
from __future__ import annotations

import contextlib
import threading
from unittest import mock


@contextlib.contextmanager
def one_moto_parse_at_a_time():
    """moto parses a definition with ANTLR at CreateStateMachine and again in each execution's thread; with all the
    cases started at once the two overlapped, and once (1 run in many) a valid definition was rejected at create
    (choice/is-present-true, on a fresh clone). ANTLR's generated parsers share caches across instances: one parse
    at a time keeps the reference's answers about the definitions, not about that race."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse = AmazonStateLanguageParser.parse
    lock = threading.Lock()

    def locked(definition: str):
        with lock:
            return parse(definition)

    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(locked)):
        yield
