"""The TestState API: run one state once and report what AWS's TestState reports.

Request (boto3 ``test_state``): ``definition`` (one state, or a whole state machine with ``stateName``: a state may
sit in a Parallel branch or a Map's item processor), ``roleArn`` (needed only for a Task that is not mocked),
``input``, ``inspectionLevel`` (INFO, DEBUG, TRACE), ``revealSecrets``, ``variables``, ``mock`` (``result`` or
``errorOutput`` {error, cause}; ``fieldValidationMode``), ``context`` (merged into the context object; only with a
mock) and ``stateConfiguration`` (``retrierRetryCount``, ``errorCausedByState``, ``mapIterationFailureCount``,
``mapItemReaderData``).

Response: ``status`` SUCCEEDED, FAILED, RETRIABLE (a retrier matches the error and, given ``retrierRetryCount``
retries so far, has attempts left) or CAUGHT_ERROR (a catcher takes it); ``output``, ``nextState``, ``error``,
``cause``; with DEBUG or TRACE, ``inspectionData``: ``input``; JSONPath: afterInputPath, afterParameters, result,
afterResultSelector, afterResultPath; JSONata: afterArguments, result; a Map: afterItemsPath (JSONPath),
afterItemSelector, maxConcurrency, toleratedFailureCount/Percentage; ``variables``; ``errorDetails`` {retryIndex,
retryBackoffIntervalSeconds, catchIndex}.

One attempt only: nothing sleeps (a retry is reported, a Wait state answers at once). Without a mock a Task calls
its integration as an execution would; Map and Parallel states, activities, ``.sync`` and ``.waitForTaskToken``
need a mock, as on AWS (their mocked result stands for the whole state's result or error).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from .. import errors
from . import failures
from .execution import LOG, Branch, Execution, internal_error_cause
from .failures import StatesError
from .jsonata_states import MapRunSettings
from .language import JSONATA
from .mock_validation import check_mock_result
from .mocks import Answer, SingleMock
from .parser import parse_definition
from .paths import VARIABLES
from .payloads import Payload, dumps, parse_execution_input
from .retry import error_matches, find_catcher
from .states import Map, Parallel, Pass, Program, Task, apply_result
from .variables import Scope

INFO, DEBUG, TRACE = "INFO", "DEBUG", "TRACE"
SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR = "SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"
# the name a single state's definition runs under ($$.State.Name), as AWS names it
SINGLE_STATE_NAME = "StateName"
VALIDATION_MODES = ("STRICT", "PRESENT", "NONE")
_MAP_OR_PARALLEL_NEEDS_MOCK = ("TestState API does not support Map or Parallel states. Supported state types "
                               "include: [Task, Wait, Pass, Succeed, Fail, Choice]")


class _TestBranch(Branch):
    """A branch whose context object takes the request's ``context``, whose sleeps do not wait, and whose Task
    call reports the parameters it computed (``afterParameters`` / ``afterArguments``)."""

    __slots__ = ("overrides", "outcome", "parameters_field")

    def context(self) -> dict:
        ctx = super().context()
        return _merge(ctx, self.overrides) if self.overrides else ctx

    def sleep(self, seconds: float) -> None:
        return None

    def run_task(self, task: Task, effective: Any, timeout: float | None, heartbeat: float | None) -> Any:
        if task.component.callback and self.task_token is None:
            self.task_token = uuid.uuid4().hex  # what $$.Task.Token reads when the request's context sets none
        params = Payload(task.parameters_of(self, effective))
        self.outcome.inspection[self.parameters_field] = params.text
        self.check_task_input(params)
        mocks = self.env.mocks
        if mocks is not None:
            return mocks.respond(self.state_name)
        return task.component.run(self, params, timeout, heartbeat).value  # request/response only (checked)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _invalid(message: str) -> errors.ValidationException:
    return errors.ValidationException(message)


def _json_field(body: dict, key: str, what: str) -> Any:
    text = body.get(key)
    if text is None:
        return None
    if not isinstance(text, str):
        raise _invalid(f"The field '{key}' must be a string holding JSON")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _invalid(f"Invalid {what}: '{exc}'") from None


def _count(config: dict, key: str) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise _invalid(f"1 validation error detected: Value '{value}' at 'stateConfiguration.{key}' failed to "
                       f"satisfy constraint: Member must have value greater than or equal to 0")
    return value


class _Target:
    """The state under test: its name, definition, compiled state, query language, whether it runs inside a Map,
    and the names of the states its Parallel branches or Map item processor hold."""

    __slots__ = ("name", "spec", "state", "language", "in_map", "inner_names")

    def __init__(self, name: str, spec: dict, state, language: str, in_map: bool) -> None:
        self.name = name
        self.spec = spec
        self.state = state
        self.language = language
        self.in_map = in_map
        self.inner_names = _inner_state_names(spec)


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
        mock = self._check_mock(body)
        input_text, data = parse_execution_input(body.get("input"))
        context = _json_field(body, "context", "context")
        if context is not None:
            if mock is None:
                raise _invalid("The field 'context' may only be specified if a mock is specified in the same "
                               "request")
            if not isinstance(context, dict):
                raise _invalid("The field 'context' must hold a JSON object")
        variables = _json_field(body, "variables", "variables")
        if variables is not None and not isinstance(variables, dict):
            raise _invalid("The field 'variables' must hold a JSON object")
        config = body.get("stateConfiguration") or {}
        if not isinstance(config, dict):
            raise _invalid("The field 'stateConfiguration' must be an object")

        target = self._target(definition, body.get("stateName"))
        state = target.state
        self._check_state_against_mock(target, mock, body)
        self._check_configuration(target, config)
        outcome = _Outcome(input_text)
        mocks = SingleMock(target.name, self._answer(mock, target)) if mock is not None else None
        branch = self._branch(target, data, context, variables, config, outcome, body.get("roleArn") or "", mocks)
        token = VARIABLES.set(branch.variables)  # $name paths read the request's variables
        try:
            self._run(branch, target, data, outcome, config)
        except StatesError as exc:
            self._handle_error(branch, state, data, exc, outcome, config)
        except errors.ServiceError:
            raise
        except Exception:  # an engine bug: an AWS-shaped States.Runtime failure, the traceback in the log
            LOG.exception("TestState of %s: internal error", target.name)
            exc = StatesError(failures.RUNTIME, internal_error_cause(target.name, 0))
            self._handle_error(branch, state, data, exc, outcome, config)
        finally:
            VARIABLES.reset(token)
        if variables is not None or branch.assigned:
            outcome.inspection["variables"] = dumps({**(variables or {}), **(branch.assigned or {})})
        return outcome.response(level)

    @staticmethod
    def _check_mock(body: dict) -> dict | None:
        mock = body.get("mock")
        if mock is None:
            return None
        if not isinstance(mock, dict):
            raise _invalid("The field 'mock' must be an object")
        if "result" in mock and "errorOutput" in mock:
            raise _invalid("A test mock should have only one of the following fields: [result, errorOutput].")
        if "result" not in mock and "errorOutput" not in mock:
            raise _invalid("A test mock should have one of the following fields: [result, errorOutput].")
        if body.get("revealSecrets"):
            raise _invalid("TestState does not support RevealSecrets when a mock is specified.")
        mode = mock.get("fieldValidationMode", "STRICT")
        if mode not in VALIDATION_MODES:
            raise _invalid(f"1 validation error detected: Value '{mode}' at 'mock.fieldValidationMode' failed to "
                           f"satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]")
        return mock

    def _target(self, definition: str, state_name: Any) -> _Target:
        try:
            document = json.loads(definition)
        except ValueError as exc:
            raise errors.InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "
                                           f"{exc}'") from None
        if not isinstance(document, dict):
            raise errors.InvalidDefinition("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The "
                                           "definition must be a JSON object at /'")
        if state_name is not None and (not isinstance(state_name, str) or not 1 <= len(state_name) <= 80):
            raise _invalid("1 validation error detected: Value at 'stateName' failed to satisfy constraint: Member "
                           "must have length between 1 and 80")
        if "States" in document:
            if state_name is None:
                raise _invalid("stateName is required when the definition is a whole state machine")
            program = parse_definition(definition)
            found = _find(program, document, state_name, False)
            if found is None:
                raise _invalid("State not found in definition")
            spec, state, in_map, language = found
            language = spec.get("QueryLanguage") or language or "JSONPath"
            return _Target(state_name, spec, state, language, in_map)
        name = state_name if state_name is not None else SINGLE_STATE_NAME
        wrapper: dict[str, Any] = {"StartAt": name, "States": {name: document}}
        if "QueryLanguage" in document:
            wrapper["QueryLanguage"] = document["QueryLanguage"]
        for target in _targets(document):
            if target != name:
                wrapper["States"].setdefault(target, {"Type": "Succeed"})
        program = parse_definition(json.dumps(wrapper))
        return _Target(name, document, program.states[name], document.get("QueryLanguage") or "JSONPath", False)

    @staticmethod
    def _check_state_against_mock(target: _Target, mock: dict | None, body: dict) -> None:
        state = target.state
        if mock is not None:
            if not isinstance(state, (Task, Map, Parallel)):
                raise _invalid(f"State type '{state.type}' is not supported when a mock is specified")
            return
        if isinstance(state, (Map, Parallel)):
            raise errors.InvalidDefinition(_MAP_OR_PARALLEL_NEEDS_MOCK)
        if isinstance(state, Task):
            resource = state.component.resource
            if resource.kind == "activity" or resource.pattern:
                raise _invalid(f"Testing an activity, .sync or .waitForTaskToken Task needs a mock: {resource.arn}")
            if not body.get("roleArn"):
                raise _invalid("RoleArn must be specified when testing a Task state")

    @staticmethod
    def _check_configuration(target: _Target, config: dict) -> None:
        for key in config:
            if key not in ("retrierRetryCount", "errorCausedByState", "mapIterationFailureCount",
                           "mapItemReaderData"):
                raise _invalid(f"Unknown field in stateConfiguration: '{key}'")
        _count(config, "retrierRetryCount")
        failed = _count(config, "mapIterationFailureCount")
        state = target.state
        if failed is not None and not isinstance(state, Map):
            raise _invalid("stateConfiguration.mapIterationFailureCount applies to Map states only")
        caused_by = config.get("errorCausedByState")
        if caused_by is not None:
            if not isinstance(state, (Map, Parallel)):
                raise _invalid("stateConfiguration.errorCausedByState applies to Map and Parallel states only")
            if caused_by not in target.inner_names:
                raise _invalid(f"stateConfiguration.errorCausedByState: the state '{caused_by}' is not in the "
                               f"state's {'branches' if isinstance(state, Parallel) else 'item processor'}")
        reader_data = config.get("mapItemReaderData")
        if reader_data is not None:
            if not isinstance(state, Map) or state.distributed is None or state.distributed.reader is None:
                raise _invalid("stateConfiguration.mapItemReaderData applies to Map states with an ItemReader only")
            if not isinstance(reader_data, str):
                raise _invalid("stateConfiguration.mapItemReaderData must be a string")

    def _answer(self, mock: dict, target: _Target) -> Answer:
        if "errorOutput" in mock:
            output = mock["errorOutput"]
            if not isinstance(output, dict) or not isinstance(output.get("error"), str):
                raise _invalid("mock.errorOutput.error is required when mock.errorOutput is specified")
            cause = output.get("cause")
            return Answer(error=output["error"], cause=cause if isinstance(cause, str) else "")
        text = mock["result"]
        if not isinstance(text, str):
            raise _invalid("Mocked result must be valid JSON")
        try:
            result = json.loads(text)
        except ValueError:
            raise _invalid("Mocked result must be valid JSON") from None
        state = target.state
        if isinstance(state, Task):
            problem = check_mock_result(target.spec.get("Resource"), result, mock.get("fieldValidationMode") or
                                        "STRICT")
            if problem:
                raise _invalid(f"The mocked result does not match the API's response: {problem}")
        elif isinstance(state, Parallel):
            if not isinstance(result, list):
                raise _invalid("Mocked result must be an array.")
            if len(result) != len(state.branches):
                raise _invalid("Mocked result must contain the same number of items as number of Parallel branches.")
        elif isinstance(state, Map):
            writes = state.distributed is not None and state.distributed.writer is not None
            if writes and not isinstance(result, dict):
                raise _invalid("Mocked result must be a JSON object.")
            if not writes and not isinstance(result, list):
                raise _invalid("Mocked result must be an array.")
        return Answer(result=result)

    def _branch(self, target: _Target, data: Any, context: dict | None, variables: dict | None, config: dict,
                outcome: "_Outcome", role_arn: str, mocks: SingleMock | None) -> _TestBranch:
        exec_name = str(uuid.uuid4())
        machine = f"TestStateMachine-{exec_name[:8]}"
        name = target.name
        execution = Execution(self.engine.environment(mocks), Program(name, {name: target.state}, None, None),
                              f"arn:aws:states:{self.region}:{self.account_id}:express:{machine}:{exec_name}",
                              exec_name, f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{machine}",
                              machine, dumps(data), data, role_arn=role_arn)
        in_map_default = target.in_map and not (context and "Map" in context)
        branch = _TestBranch(execution, execution.cancel, 0, {"Index": 0, "Value": data} if in_map_default else None)
        branch.overrides = context
        branch.outcome = outcome
        branch.parameters_field = "afterArguments" if target.language == JSONATA else "afterParameters"
        branch.state_name = name
        branch.entered_time = self.engine.clock.now()
        retrying = isinstance(target.state, (Task, Map, Parallel))
        branch.retry_count = (config.get("retrierRetryCount") or 0) if retrying else None
        if variables:
            branch.variables = Scope(dict(variables))
        return branch

    # -- running ------------------------------------------------------------------------------------------------

    def _run(self, branch: _TestBranch, target: _Target, data: Any, outcome: "_Outcome", config: dict) -> None:
        state = target.state
        jsonata = target.language == JSONATA
        if jsonata:
            effective = data
        else:
            effective = state.effective_input(branch, data)
            if isinstance(state, (Pass, Task, Parallel, Map)):
                outcome.inspection["afterInputPath"] = dumps(effective)
        if isinstance(state, Pass) and not jsonata:
            params = state.parameters.resolve(effective, branch.context) if state.parameters is not None else effective
            outcome.inspection["afterParameters"] = dumps(params)
            output, next_state = state.run(branch, data)
            result = state.result if state.has_result else params
            outcome.inspection["afterResultSelector"] = dumps(result)
            outcome.inspection["afterResultPath"] = dumps(apply_result(state.result_path, data, result))
            outcome.succeeded(output, next_state)
            return
        if not isinstance(state, (Task, Parallel, Map)):
            # Choice, Wait, Succeed, Fail (and a JSONata Pass): the state's own logic (a Wait does not wait)
            output, next_state = state.run(branch, data)
            outcome.succeeded(output, next_state)
            return
        if isinstance(state, Task):
            result = state.attempt(branch, effective)  # _TestBranch.run_task: the mock's answer or the real call
        else:
            if isinstance(state, Map):
                self._map_inspection(branch, state, effective, outcome, config, jsonata)
            elif state.parameters is not None or getattr(state, "arguments", None) is not None:
                outcome.inspection[branch.parameters_field] = dumps(state.parameters_of(branch, effective))
            result = branch.env.mocks.respond(state.name)  # the mock stands for every branch or iteration
        payload = Payload(result)  # its text made once: for its size and the inspection data
        if payload.over_limit():
            raise StatesError(failures.DATA_LIMIT_EXCEEDED, f"The state/task '{state.name}' returned a result with a "
                                                            f"size exceeding the maximum number of bytes service "
                                                            f"limit.")
        if not (jsonata and isinstance(state, Map)):
            outcome.inspection["result"] = payload.text
        if not jsonata:
            selected = state.result_selector.resolve(result, branch.context) if state.result_selector else result
            outcome.inspection["afterResultSelector"] = dumps(selected)
            outcome.inspection["afterResultPath"] = dumps(apply_result(state.result_path, data, selected))
        outcome.succeeded(state.succeed(branch, data, result), state.next)

    def _map_inspection(self, branch, state: Map, effective: Any, outcome: "_Outcome", config: dict,
                        jsonata: bool) -> None:
        """What a Map state does before its iterations: items, ItemSelector, limits; the tolerated failure
        threshold against ``mapIterationFailureCount`` (States.ExceedToleratedFailureThreshold)."""
        reader_data = config.get("mapItemReaderData")
        if jsonata:
            items, concurrency, count, percentage = state.settings(branch, effective)
        else:
            if reader_data is None:
                items = state.items_of(branch, effective, reader=False)  # TestState reads no ItemReader
                outcome.inspection["afterItemsPath"] = dumps(items)
            concurrency = state.concurrency_of(branch, effective)
            count, percentage = state.tolerated_failure_count, state.tolerated_failure_percentage
        if reader_data is not None:
            try:
                items = json.loads(reader_data)
            except ValueError:
                raise _invalid("stateConfiguration.mapItemReaderData must hold JSON") from None
            if not isinstance(items, list):
                items = [items]
        if state.item_selector is not None:
            selected = []
            for index, item in enumerate(items):
                branch.map_item = {"Index": index, "Value": item}
                selected.append(state.item_selector.resolve(effective, branch.context))
            branch.map_item = None
            outcome.inspection["afterItemSelector"] = dumps(selected)
        outcome.inspection["maxConcurrency"] = concurrency
        if count is not None:
            outcome.inspection["toleratedFailureCount"] = count
        if percentage is not None:
            outcome.inspection["toleratedFailurePercentage"] = float(percentage)
        failed = config.get("mapIterationFailureCount")
        if failed is not None:
            if failed > len(items):
                raise _invalid("stateConfiguration.mapIterationFailureCount cannot exceed the number of items")
            mocked_error = branch.env.mocks.answer.error is not None
            run = MapRunSettings(state, count, percentage)
            if run.tolerates_failures and not mocked_error:  # a mocked error wins
                if not run.tolerated(failed, len(items)):
                    raise StatesError(failures.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                      "The specified tolerated failure threshold was exceeded")

    @staticmethod
    def _handle_error(branch, state, data: Any, exc: StatesError, outcome: "_Outcome", config: dict) -> None:
        """RETRIABLE when a retrier matches and has attempts left after ``retrierRetryCount`` retries; else
        CAUGHT_ERROR when a catcher matches; else FAILED. Terminal errors are never retried or caught."""
        outcome.error, outcome.cause = exc.error, exc.cause
        details: dict[str, Any] = {}
        if not exc.terminal:
            for index, retrier in enumerate(getattr(state, "retriers", ())):
                if error_matches(retrier.error_equals, exc.error, exc.terminal):
                    details["retryIndex"] = index
                    count = config.get("retrierRetryCount") or 0
                    if count < retrier.max_attempts:
                        details["retryBackoffIntervalSeconds"] = int(retrier.base_delay(count))
                        outcome.failed(RETRIABLE, details)
                        return
                    break  # the first matching retrier is exhausted: Catch decides
            catchers = getattr(state, "catchers", ())
            catcher = find_catcher(catchers, exc.error, exc.terminal)
            if catcher is not None:
                details["catchIndex"] = catchers.index(catcher)
                try:
                    output = state.caught(branch, data, catcher, exc)
                except StatesError as caught_exc:  # the catcher's own Output/ResultPath/Assign failed
                    outcome.error, outcome.cause = caught_exc.error, caught_exc.cause
                    outcome.failed(FAILED, details)
                    return
                outcome.failed(CAUGHT_ERROR, details)
                outcome.output = dumps(output)
                outcome.next_state = catcher.next
                return
        outcome.failed(FAILED, details)


class _Outcome:
    __slots__ = ("status", "output", "next_state", "error", "cause", "inspection", "error_details")

    def __init__(self, input_text: str) -> None:
        self.status = SUCCEEDED
        self.output: str | None = None
        self.next_state: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.inspection: dict[str, Any] = {"input": input_text}
        self.error_details: dict | None = None

    def succeeded(self, output: Any, next_state: str | None) -> None:
        self.status = SUCCEEDED
        self.output = dumps(output)
        self.next_state = next_state

    def failed(self, status: str, details: dict) -> None:
        self.status = status
        self.error_details = details or None

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


def _inner_state_names(spec: dict) -> set[str]:
    """Every state name inside a Parallel's branches or a Map's item processor (at any depth)."""
    programs = list(spec.get("Branches") or ())
    processor = spec.get("ItemProcessor") or spec.get("Iterator")
    if isinstance(processor, dict):
        programs.append(processor)
    names: set[str] = set()
    for program in programs:
        states = program.get("States") if isinstance(program, dict) else None
        for name, child in (states or {}).items():
            names.add(name)
            if isinstance(child, dict):
                names |= _inner_state_names(child)
    return names


def _find(program: Program, doc: dict, name: str, in_map: bool, language: str | None = None):
    """(spec, compiled state, inside a Map, inherited query language) of ``name`` anywhere in the machine."""
    language = doc.get("QueryLanguage") or language
    states_doc = doc.get("States") or {}
    if name in program.states and name in states_doc:
        return states_doc[name], program.states[name], in_map, language
    for state_name, state in program.states.items():
        spec = states_doc.get(state_name) or {}
        inherited = spec.get("QueryLanguage") or language
        if isinstance(state, Parallel):
            for branch_program, branch_doc in zip(state.branches, spec.get("Branches") or ()):
                found = _find(branch_program, branch_doc, name, in_map, inherited)
                if found is not None:
                    return found
        elif isinstance(state, Map):
            processor_doc = spec.get("ItemProcessor") or spec.get("Iterator") or {}
            found = _find(state.processor, processor_doc, name, True, inherited)
            if found is not None:
                return found
    return None
