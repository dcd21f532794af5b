"""Mocked service integrations in Step Functions Local's mock configuration format.

A mock config names test cases per state machine; a test case maps Task state names to mocked responses; a mocked
response gives, per invocation of that state (counted from 0 across the execution: retries, loops and Map
iterations all count), either ``Return`` (the task's result) or ``Throw`` (``Error`` and ``Cause``)::

    {"StateMachines": {"Order": {"TestCases": {"HappyPath": {"ValidateOrder": "ValidOrder"}}}},
     "MockedResponses": {"ValidOrder": {"0": {"Return": {"Payload": {...}}},
                                        "1-2": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "..."}}}}}

Starting an execution with ``stateMachineArn`` = ``<state machine ARN>#HappyPath`` runs that test case: a mocked
Task records the same history events as a real one (TaskScheduled, TaskStarted, TaskSucceeded or TaskFailed) but
never calls its integration; Retry and Catch see a thrown error as a real one. Tasks the test case does not name
call their integration as usual. An invocation the mocked response does not cover fails the execution
(``States.Runtime``), as Step Functions Local does.

Where the config comes from: ``Engine(mock_config=...)`` (a path, a dict or a ``MockConfig``), else the file named
by the ``SFN_MOCK_CONFIG`` environment variable, as Step Functions Local reads it.
"""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .failures import RUNTIME, StatesError

ENV_VAR = "SFN_MOCK_CONFIG"
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class MockConfigError(ValueError):
    """The mock config file breaks the format."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One mocked invocation: a result, or an error with its cause."""

    result: Any = None
    error: str | None = None
    cause: str | None = None

    def give(self) -> Any:
        if self.error is not None:
            raise StatesError(self.error, self.cause or "")
        return self.result


@dataclass(frozen=True, slots=True)
class MockedResponse:
    name: str
    ranges: tuple[tuple[int, int, Answer], ...]  # (first, last invocation, answer), sorted

    def at(self, invocation: int) -> Answer | None:
        for first, last, answer in self.ranges:
            if first <= invocation <= last:
                return answer
        return None


class MockConfig:
    """A parsed and checked mock config. ``case(machine, test_case)`` gives a fresh per-execution view."""

    def __init__(self, document: Any, source: str = "mock config") -> None:
        self.source = source
        if not isinstance(document, dict):
            raise MockConfigError(f"{source}: the mock config must be a JSON object")
        responses_doc = document.get("MockedResponses", {})
        machines_doc = document.get("StateMachines", {})
        if not isinstance(responses_doc, dict) or not isinstance(machines_doc, dict):
            raise MockConfigError(f"{source}: 'StateMachines' and 'MockedResponses' must be objects")
        self.responses = {name: _parse_response(name, spec, source) for name, spec in responses_doc.items()}
        self.machines: dict[str, dict[str, dict[str, str]]] = {}
        for machine, spec in machines_doc.items():
            cases = spec.get("TestCases") if isinstance(spec, dict) else None
            if not isinstance(cases, dict):
                raise MockConfigError(f"{source}: StateMachines.{machine} needs a 'TestCases' object")
            self.machines[machine] = {}
            for case, states in cases.items():
                if not isinstance(states, dict):
                    raise MockConfigError(f"{source}: test case {machine}.{case} must map state names to mocked "
                                          f"response names")
                for state, response in states.items():
                    if not isinstance(response, str) or response not in self.responses:
                        raise MockConfigError(f"{source}: test case {machine}.{case} names the mocked response "
                                              f"{response!r} for state {state!r}, which MockedResponses does not "
                                              f"define")
                self.machines[machine][case] = dict(states)

    @classmethod
    def from_file(cls, path: str | Path) -> "MockConfig":
        path = Path(path)
        try:
            document = json.loads(path.read_text())
        except OSError as exc:
            raise MockConfigError(f"{path}: cannot read the mock config: {exc}") from None
        except ValueError as exc:
            raise MockConfigError(f"{path}: not valid JSON: {exc}") from None
        return cls(document, str(path))

    def test_cases(self, machine: str) -> list[str]:
        return list(self.machines.get(machine, {}))

    def case(self, machine: str, test_case: str) -> "MockedCase":
        cases = self.machines.get(machine)
        if cases is None:
            raise MockConfigError(f"The mock config has no state machine named '{machine}'")
        if test_case not in cases:
            raise MockConfigError(f"The mock config has no test case '{test_case}' for state machine '{machine}'")
        states = {state: self.responses[response] for state, response in cases[test_case].items()}
        return MockedCase(machine, test_case, states)


class MockedCase:
    """The mocks of one execution: invocation counters per state (thread-safe: Map iterations share them)."""

    def __init__(self, machine: str, name: str, states: dict[str, MockedResponse]) -> None:
        self.machine = machine
        self.name = name
        self.states = states
        self.invocations: dict[str, int] = {}
        self._lock = threading.Lock()

    def covers(self, state_name: str) -> bool:
        return state_name in self.states

    def respond(self, state_name: str) -> Any:
        """The mocked result of this invocation of ``state_name``, or raise its mocked error."""
        with self._lock:
            invocation = self.invocations.get(state_name, 0)
            self.invocations[state_name] = invocation + 1
        response = self.states[state_name]
        answer = response.at(invocation)
        if answer is None:
            raise StatesError(RUNTIME, f"The mocked response '{response.name}' of test case '{self.name}' has no "
                                       f"answer for invocation {invocation} of state '{state_name}'")
        return answer.give()


class SingleMock:
    """One state's answer for every invocation (TestState's ``mock``)."""

    def __init__(self, state_name: str, answer: Answer) -> None:
        self.state_name = state_name
        self.answer = answer
        self.invocations = 0

    def covers(self, state_name: str) -> bool:
        return state_name == self.state_name

    def respond(self, state_name: str) -> Any:
        self.invocations += 1
        return self.answer.give()


def _parse_response(name: str, spec: Any, source: str) -> MockedResponse:
    if not isinstance(spec, dict) or not spec:
        raise MockConfigError(f"{source}: MockedResponses.{name} must be a non-empty object of invocation numbers")
    ranges = []
    for key, entry in spec.items():
        match = _RANGE.match(key) if isinstance(key, str) else None
        if match is None:
            raise MockConfigError(f"{source}: MockedResponses.{name}: '{key}' is not an invocation number or an "
                                  f"inclusive range such as '1-2'")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise MockConfigError(f"{source}: MockedResponses.{name}: the range '{key}' ends before it starts")
        ranges.append((first, last, _parse_answer(name, key, entry, source)))
    ranges.sort(key=lambda item: item[0])
    for (first_a, last_a, _), (first_b, _, _) in zip(ranges, ranges[1:]):
        if first_b <= last_a:
            raise MockConfigError(f"{source}: MockedResponses.{name}: invocation {first_b} is mocked twice")
    return MockedResponse(name, tuple(ranges))


def _parse_answer(name: str, key: str, entry: Any, source: str) -> Answer:
    where = f"{source}: MockedResponses.{name}.{key}"
    if not isinstance(entry, dict) or len(entry) != 1 or not ({"Return", "Throw"} & set(entry)):
        raise MockConfigError(f"{where} must hold exactly one field, 'Return' or 'Throw'")
    if "Return" in entry:
        return Answer(result=entry["Return"])
    throw = entry["Throw"]
    if not isinstance(throw, dict) or not isinstance(throw.get("Error"), str) or \
            not isinstance(throw.get("Cause"), str):
        raise MockConfigError(f"{where}.Throw must be an object with string fields 'Error' and 'Cause'")
    return Answer(error=throw["Error"], cause=throw["Cause"])


def load_mock_config(source: Any = None) -> MockConfig | None:
    """``source``: a MockConfig, a dict, a path; None reads the path in ``SFN_MOCK_CONFIG`` (unset: no mocks)."""
    if isinstance(source, MockConfig):
        return source
    if isinstance(source, dict):
        return MockConfig(source)
    if source is None:
        source = os.environ.get(ENV_VAR) or None
        if source is None:
            return None
    return MockConfig.from_file(source)
