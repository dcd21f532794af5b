"""The TestState API: run one state once and report what AWS's TestState reports.

Request (boto3 ``test_state``): ``definition`` (one state, or a whole state machine with ``stateName``), ``roleArn``
(needed unless a ``mock`` is given), ``input``, ``inspectionLevel`` (INFO, DEBUG, TRACE), ``revealSecrets``,
``variables``, ``mock`` (``result`` or ``errorOutput`` {error, cause}; ``fieldValidationMode``), ``context`` (merged
into ``$$``) and ``stateConfiguration`` (``retrierRetryCount``, ``errorCausedByState``, ``mapIterationFailureCount``).

Response: ``status`` SUCCEEDED, FAILED, RETRIABLE (a retrier matches the error and, given ``retrierRetryCount``
retries so far, has attempts left) or CAUGHT_ERROR (a catcher takes it); ``output``, ``nextState``, ``error``,
``cause``; with DEBUG or TRACE, ``inspectionData`` (input, afterInputPath, afterParameters, result,
afterResultSelector, afterResultPath, errorDetails {retryIndex, retryBackoffIntervalSeconds, catchIndex}, and for a
Map afterItemsPath, afterItemSelector, toleratedFailureCount/Percentage, maxConcurrency).

One attempt only: nothing sleeps (Retry and Wait report instead of waiting). Without a mock a Task calls its
integration as an execution would; Map, Parallel, activities, ``.sync`` and ``.waitForTaskToken`` need a mock, as
on AWS. JSONata states run through the state's own logic (status, output and next state; no intermediate data).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from .. import errors
from . import failures
from .execution import PAYLOAD_LIMIT, Branch, Execution
from .failures import StatesError
from .mocks import Answer, SingleMock
from .parser import parse_definition
from .service import parse_execution_input
from .paths import dumps
from .retry import error_matches, find_catcher
from .states import Map, Parallel, Pass, Program, Task, _apply_result

INFO, DEBUG, TRACE = "INFO", "DEBUG", "TRACE"
SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR = "SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"
_SINGLE_STATE_NAME = "TestState"


class _Retriable(Exception):
    """Raised by the test branch's sleep: the state's own retry loop asked to wait (JSONata fallback)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _TestBranch(Branch):
    """A branch whose context object takes the request's ``context`` and whose sleeps do not wait."""

    __slots__ = ("overrides", "signal_retry")

    def context(self) -> dict:
        ctx = super().context()
        return _merge(ctx, self.overrides) if self.overrides else ctx

    def sleep(self, seconds: float) -> None:
        if self.signal_retry:
            raise _Retriable(seconds)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _invalid(message: str) -> errors.ValidationException:
    return errors.ValidationException(message)


def _json_field(body: dict, key: str, default: Any, what: str, error=errors.ValidationException) -> Any:
    text = body.get(key)
    if text is None:
        return default
    if not isinstance(text, str):
        raise _invalid(f"The field '{key}' must be a string holding JSON")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise error(f"Invalid {what}: '{exc}'") from None


class TestStateRunner:
    """``TestStateRunner(engine, region, account_id).run(body) -> response``."""

    __test__ = False  # not a pytest test class

    def __init__(self, engine, region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self.engine = engine
        self.region = region
        self.account_id = account_id

    # -- request ------------------------------------------------------------------------------------------------

    def run(self, body: dict) -> dict:
        definition = body.get("definition")
        if not isinstance(definition, str):
            raise _invalid("1 validation error detected: Value null at 'definition' failed to satisfy constraint: "
                           "Member must not be null")
        level = body.get("inspectionLevel") or INFO
        if level not in (INFO, DEBUG, TRACE):
            raise _invalid(f"1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy "
                           f"constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]")
        mock = body.get("mock")
        if mock is not None and not isinstance(mock, dict):
            raise _invalid("The field 'mock' must be an object")
        if mock is not None:
            if "result" in mock and "errorOutput" in mock:
                raise _invalid("A mock takes either 'result' or 'errorOutput', not both")
            if "result" not in mock and "errorOutput" not in mock:
                raise _invalid("A mock needs 'result' or 'errorOutput'")
            if body.get("revealSecrets"):
                raise _invalid("revealSecrets cannot be used with a mock")
        if mock is None and not body.get("roleArn"):
            raise _invalid("roleArn is required when no mock is given")
        input_text, data = parse_execution_input(body.get("input"))
        context = _json_field(body, "context", None, "context")
        if context is not None and not isinstance(context, dict):
            raise _invalid("The field 'context' must hold a JSON object")
        variables = _json_field(body, "variables", None, "variables")
        if variables is not None and not isinstance(variables, dict):
            raise _invalid("The field 'variables' must hold a JSON object")
        config = body.get("stateConfiguration") or {}

        name, spec, state, in_map, query_language = self._state(definition, body.get("stateName"))
        if mock is None:
            self._check_needs_no_mock(name, spec, state)
        if level == TRACE and spec.get("Resource") != "arn:aws:states:::http:invoke":
            raise _invalid("The TRACE inspection level is only supported for HTTP Task states")
        answer = self._answer(mock, spec) if mock is not None else None

        branch = self._branch(name, state, data, context, in_map, variables)
        if answer is not None:
            branch.execution.mocks = SingleMock(name, answer)
        if query_language == "JSONata":
            outcome = self._run_whole(branch, state, data)
        else:
            outcome = _Outcome(level, input_text)
            try:
                self._run(branch, state, data, outcome, config)
            except StatesError as exc:
                self._handle_error(branch, state, data, exc, outcome, config)
        if variables is not None or branch.assigned:
            outcome.inspection["variables"] = dumps({**(variables or {}), **(branch.assigned or {})})
        return outcome.response(level)

    def _state(self, definition: str, state_name: Any):
        """(name, spec, compiled state, inside a Map, query language) of the state under test."""
        try:
            document = json.loads(definition)
        except ValueError as exc:
            raise errors.InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "
                                           f"{exc}'") from None
        if not isinstance(document, dict):
            raise errors.InvalidDefinition("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The "
                                           "definition must be a JSON object at /'")
        if "States" in document:
            if not isinstance(state_name, str) or not state_name:
                raise _invalid("stateName is required when the definition is a whole state machine")
            program = parse_definition(definition)
            found = _find(program, document, state_name, False)
            if found is None:
                raise _invalid(f"The state '{state_name}' is not in the definition")
            spec, state, in_map, language = found
            language = spec.get("QueryLanguage") or language or document.get("QueryLanguage") or "JSONPath"
            return state_name, spec, state, in_map, language
        name = state_name if isinstance(state_name, str) and state_name else _SINGLE_STATE_NAME
        wrapper: dict[str, Any] = {"StartAt": name, "States": {name: document}}
        if "QueryLanguage" in document:
            wrapper["QueryLanguage"] = document["QueryLanguage"]
        for target in _targets(document):
            if target != name:
                wrapper["States"].setdefault(target, {"Type": "Succeed"})
        program = parse_definition(json.dumps(wrapper))
        return name, document, program.states[name], False, document.get("QueryLanguage") or "JSONPath"

    @staticmethod
    def _check_needs_no_mock(name: str, spec: dict, state) -> None:
        if isinstance(state, (Map, Parallel)):
            raise _invalid(f"Testing a {state.type} state needs a mock")
        if isinstance(state, Task):
            resource = state.resource
            if resource.kind == "activity" or resource.pattern:
                raise _invalid(f"Testing an activity, .sync or .waitForTaskToken Task needs a mock: {resource.arn}")

    def _answer(self, mock: dict, spec: dict) -> Answer:
        if "errorOutput" in mock:
            output = mock["errorOutput"]
            if not isinstance(output, dict):
                raise _invalid("mock.errorOutput must be an object with 'error' and 'cause'")
            return Answer(error=output.get("error") or "", cause=output.get("cause") or "")
        text = mock["result"]
        if not isinstance(text, str):
            raise _invalid("mock.result must be a string holding JSON")
        try:
            result = json.loads(text)
        except ValueError as exc:
            raise _invalid(f"mock.result is not valid JSON: {exc}") from None
        if spec.get("Type") == "Task":
            from .mock_validation import check_mock_result

            problem = check_mock_result(spec.get("Resource"), result, mock.get("fieldValidationMode") or "STRICT")
            if problem:
                raise _invalid(f"The mocked result does not match the API's response: {problem}")
        if spec.get("Type") == "Parallel":
            branches = spec.get("Branches") or []
            if not isinstance(result, list) or len(result) != len(branches):
                raise _invalid(f"The mocked result of a Parallel state must be a JSON array with one element per "
                               f"branch ({len(branches)})")
        if spec.get("Type") == "Map" and not isinstance(result, (list, dict)):
            raise _invalid("The mocked result of a Map state must be a JSON array or object")
        return Answer(result=result)

    def _branch(self, name: str, state, data: Any, context: dict | None, in_map: bool,
                variables: dict | None) -> _TestBranch:
        exec_name = str(uuid.uuid4())
        machine = "TestStateMachine"
        execution = Execution(self.engine, Program(name, {name: state}, None, None),
                              f"arn:aws:states:{self.region}:{self.account_id}:execution:{machine}:{exec_name}",
                              exec_name, f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{machine}",
                              machine, dumps(data), data)
        map_item = {"Index": 0, "Value": data} if in_map and not (context and "Map" in context) else None
        branch = _TestBranch(execution, execution.cancel, 0, map_item)
        branch.overrides = context
        branch.signal_retry = False
        branch.state_name = name
        branch.entered_time = self.engine.clock.now()
        if variables:
            from .variables import Scope

            branch.variables = Scope(dict(variables))
        return branch

    # -- running ------------------------------------------------------------------------------------------------

    def _run(self, branch: _TestBranch, state, data: Any, outcome: "_Outcome", config: dict) -> None:
        effective = state.effective_input(branch, data)
        outcome.inspection["afterInputPath"] = dumps(effective)
        if isinstance(state, Pass):
            params = state.parameters.resolve(effective, branch.context) if state.parameters is not None else effective
            outcome.inspection["afterParameters"] = dumps(params)
            output, next_state = state.run(branch, data)
            result = state.result if state.has_result else params
            outcome.inspection["afterResultSelector"] = dumps(result)
            outcome.inspection["afterResultPath"] = dumps(_apply_result(state.result_path, data, result))
            outcome.succeeded(output, next_state)
            return
        if isinstance(state, Map):
            self._map_inspection(branch, state, effective, outcome, config)
        elif isinstance(state, (Task, Parallel)):
            outcome.inspection["afterParameters"] = dumps(state.parameters_of(branch, effective))
        if isinstance(state, (Task, Parallel, Map)):
            if isinstance(state, Task):
                result = state.attempt(branch, effective)
            else:  # Map and Parallel are only tested with a mock: its answer is the state's result
                result = branch.execution.mocks.respond(state.name)
            if len(dumps(result).encode()) > PAYLOAD_LIMIT:
                raise StatesError(failures.DATA_LIMIT_EXCEEDED, f"The state/task '{state.name}' returned a result "
                                  f"with a size exceeding the maximum number of bytes service limit.")
            outcome.inspection["result"] = dumps(result)
            selected = state.result_selector.resolve(result, branch.context) if state.result_selector else result
            outcome.inspection["afterResultSelector"] = dumps(selected)
            outcome.inspection["afterResultPath"] = dumps(_apply_result(state.result_path, data, selected))
            outcome.succeeded(state.succeed(branch, data, result), state.next)
            return
        # Choice, Wait, Succeed, Fail: the state's own logic (a Wait does not wait)
        output, next_state = state.run(branch, data)
        outcome.succeeded(output, next_state)

    def _map_inspection(self, branch, state: Map, effective: Any, outcome: "_Outcome", config: dict) -> None:
        items = state.items_of(branch, effective, reader=False)  # TestState reads no ItemReader
        outcome.inspection["afterItemsPath"] = dumps(items)
        if state.item_selector is not None:
            selected = []
            for index, item in enumerate(items):
                branch.map_item = {"Index": index, "Value": item}
                selected.append(state.item_selector.resolve(effective, branch.context))
            branch.map_item = None
            outcome.inspection["afterItemSelector"] = dumps(selected)
        outcome.inspection["maxConcurrency"] = state.max_concurrency
        if state.tolerated_failure_count is not None:
            outcome.inspection["toleratedFailureCount"] = state.tolerated_failure_count
        if state.tolerated_failure_percentage is not None:
            outcome.inspection["toleratedFailurePercentage"] = float(state.tolerated_failure_percentage)
        failed = config.get("mapIterationFailureCount")
        if failed is not None:
            if not isinstance(failed, int) or failed < 0 or failed > len(items):
                raise _invalid("stateConfiguration.mapIterationFailureCount must be between 0 and the number of "
                               "items")
            tolerant = state.tolerated_failure_count is not None or state.tolerated_failure_percentage is not None
            if tolerant and not state.tolerated(failed, len(items)):
                raise StatesError(failures.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                  "The specified tolerated failure threshold was exceeded")

    def _handle_error(self, branch, state, data: Any, exc: StatesError, outcome: "_Outcome", config: dict) -> None:
        retriers = getattr(state, "retriers", ())
        catchers = getattr(state, "catchers", ())
        if exc.error not in failures.TERMINAL:
            for index, retrier in enumerate(retriers):
                if error_matches(retrier.error_equals, exc.error):
                    count = config.get("retrierRetryCount") or 0
                    if count < retrier.max_attempts:
                        delay = retrier.interval_seconds * retrier.backoff_rate ** count
                        if retrier.max_delay_seconds is not None:
                            delay = min(delay, retrier.max_delay_seconds)
                        outcome.error_details = {"retryIndex": index, "retryBackoffIntervalSeconds": int(delay)}
                        outcome.failed(RETRIABLE, exc)
                        return
                    break  # the first matching retrier is exhausted: Catch decides
            catcher = find_catcher(catchers, exc.error)
            if catcher is not None:
                outcome.error_details = {"catchIndex": catchers.index(catcher)}
                outcome.failed(CAUGHT_ERROR, exc)
                outcome.output = dumps(state.caught(branch, data, catcher, exc))
                outcome.next_state = catcher.next
                return
        outcome.failed(FAILED, exc)

    def _run_whole(self, branch: _TestBranch, state, data: Any) -> "_Outcome":
        """JSONata states: the state's own run (one attempt; a retry shows as RETRIABLE)."""
        outcome = _Outcome(INFO, None)
        branch.signal_retry = True
        try:
            output, next_state = state.run(branch, data)
            outcome.succeeded(output, next_state)
        except _Retriable as signal:
            outcome.status = RETRIABLE
            outcome.error_details = {"retryBackoffIntervalSeconds": int(signal.seconds)}
        except StatesError as exc:
            outcome.failed(FAILED, exc)
        return outcome


class _Outcome:
    __slots__ = ("status", "output", "next_state", "error", "cause", "inspection", "error_details")

    def __init__(self, level: str, input_text: str | None) -> None:
        self.status = SUCCEEDED
        self.output: str | None = None
        self.next_state: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.inspection: dict[str, Any] = {} if input_text is None else {"input": input_text}
        self.error_details: dict | None = None

    def succeeded(self, output: Any, next_state: str | None) -> None:
        self.status = SUCCEEDED
        self.output = dumps(output)
        self.next_state = next_state

    def failed(self, status: str, exc: StatesError) -> None:
        self.status = status
        self.error = exc.error
        self.cause = exc.cause

    def response(self, level: str) -> dict:
        out: dict[str, Any] = {"status": self.status}
        for key, value in (("output", self.output), ("nextState", self.next_state), ("error", self.error),
                           ("cause", self.cause)):
            if value is not None:
                out[key] = value
        if level in (DEBUG, TRACE):
            inspection = dict(self.inspection)
            if self.error_details is not None:
                inspection["errorDetails"] = self.error_details
            out["inspectionData"] = inspection
        return out


def _targets(spec: dict) -> list[str]:
    """The state names a single state's definition points to (they become stand-in states for the parser)."""
    out = []
    if isinstance(spec.get("Next"), str):
        out.append(spec["Next"])
    if isinstance(spec.get("Default"), str):
        out.append(spec["Default"])
    for field in ("Choices", "Catch"):
        for entry in spec.get(field) or ():
            if isinstance(entry, dict) and isinstance(entry.get("Next"), str):
                out.append(entry["Next"])
    return out


def _find(program: Program, doc: dict, name: str, in_map: bool, language: str | None = None):
    """(spec, compiled state, inside a Map, inherited query language) of ``name`` anywhere in the machine."""
    language = doc.get("QueryLanguage") or language
    states_doc = doc.get("States") or {}
    if name in program.states and name in states_doc:
        return states_doc[name], program.states[name], in_map, language
    for state_name, state in program.states.items():
        spec = states_doc.get(state_name) or {}
        if isinstance(state, Parallel):
            for branch_program, branch_doc in zip(state.branches, spec.get("Branches") or ()):
                found = _find(branch_program, branch_doc, name, in_map, language)
                if found is not None:
                    return found
        elif isinstance(state, Map):
            processor_doc = spec.get("ItemProcessor") or spec.get("Iterator") or {}
            found = _find(state.processor, processor_doc, name, True, language)
            if found is not None:
                return found
    return None
