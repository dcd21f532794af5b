"""The Step Functions API (AWS JSON 1.0 protocol, ``X-Amz-Target: AWSStepFunctions.<Action>``).

``StepFunctionsService.handle(action, body) -> dict`` takes and returns the protocol's JSON bodies (timestamps as
epoch seconds) and raises ``local_runtime.errors`` classes named after AWS's error codes. ``OPERATIONS`` (at the end)
is the table of the API's operations and the method answering each: ``handle`` dispatches from it only, so any
other name (a helper's, a private one) answers ``UnknownOperationException``.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .. import errors
from .diagnostics import ERROR, WARNING, validate_response
from .engine import Engine
from .execution import RUNNING, Execution
from .mocks import MockConfigError
from .payloads import parse_execution_input
from .states import Program
from .test_state import TestStateRunner
from .timefmt import epoch_seconds

_STANDARD_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}


@dataclass
class StateMachine:
    arn: str
    name: str
    definition: str
    program: Program
    role_arn: str
    type: str
    creation_date: datetime
    logging: dict
    tracing: dict
    update_date: datetime | None = None
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tags: dict[str, str] = field(default_factory=dict)
    executions: dict[str, None] = field(default_factory=dict)  # execution ARNs, oldest first (an ordered set)


class StepFunctionsService:
    def __init__(self, engine: Engine, region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self.engine = engine
        self.region = region
        self.account_id = account_id
        self.machines: dict[str, StateMachine] = {}
        self._execution_machine: dict[str, StateMachine] = {}
        self._lock = threading.RLock()
        engine.evicted.append(self._forget_execution)
        engine.integrations.start_execution = self._start  # states:startExecution tasks (integrations/sfn.py)

    # -- dispatch -------------------------------------------------------------------------------------------

    def handle(self, action: str, body: dict | None) -> dict:
        """``action``: an operation of the Step Functions API (a key of ``OPERATIONS``, nothing else)."""
        operation = OPERATIONS.get(action) if isinstance(action, str) else None
        if operation is None:
            raise errors.UnknownOperationException(f"Unknown operation {action}")
        if body is not None and not isinstance(body, dict):
            raise errors.SerializationException("Start of structure or map expected")
        return operation(self, body or {})

    # -- helpers --------------------------------------------------------------------------------------------

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{name}"

    def _machine(self, arn: Any) -> StateMachine:
        if not isinstance(arn, str) or not arn.startswith("arn:aws:states:") or ":stateMachine:" not in arn:
            raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        machine = self.machines.get(arn)
        if machine is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return machine

    def _execution(self, arn: Any) -> Execution:
        if not isinstance(arn, str) or not arn.startswith("arn:aws:states:") or ":execution:" not in arn and \
                ":express:" not in arn:
            raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        execution = self.engine.get(arn)
        if execution is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return execution

    @staticmethod
    def _required(body: dict, key: str) -> Any:
        value = body.get(key)
        if value is None:
            raise errors.ValidationException(f"1 validation error detected: Value null at '{key}' failed to satisfy "
                                             f"constraint: Member must not be null")
        return value

    @staticmethod
    def _page(items: list, body: dict, key: str) -> dict:
        max_results = body.get("maxResults") or 100
        if not isinstance(max_results, int) or not 0 <= max_results <= 1000:
            raise errors.ValidationException("maxResults must be between 0 and 1000")
        max_results = max_results or 100
        start = 0
        token = body.get("nextToken")
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except ValueError:
                raise errors.InvalidToken(f"Invalid Token: '{token}'") from None
        page = items[start:start + max_results]
        out: dict = {key: page}
        if start + max_results < len(items):
            out["nextToken"] = base64.b64encode(str(start + max_results).encode()).decode()
        return out

    # -- state machines -------------------------------------------------------------------------------------

    def _create_state_machine(self, body: dict) -> dict:
        name = self._required(body, "name")
        definition = self._required(body, "definition")
        role_arn = self._required(body, "roleArn")
        machine_type = body.get("type") or "STANDARD"
        if machine_type not in ("STANDARD", "EXPRESS"):
            raise errors.ValidationException(f"1 validation error detected: Value '{machine_type}' at 'type' failed "
                                             f"to satisfy constraint: Member must satisfy enum value set: "
                                             f"[STANDARD, EXPRESS]")
        if not isinstance(name, str) or not _STANDARD_NAME.match(name):
            raise errors.InvalidName(f"Invalid Name: '{name}'")
        program = self.engine.compile(definition)
        logging = body.get("loggingConfiguration") or dict(_DEFAULT_LOGGING)
        tracing = body.get("tracingConfiguration") or dict(_DEFAULT_TRACING)
        arn = self.machine_arn(name)
        with self._lock:
            existing = self.machines.get(arn)
            if existing is not None:
                if (existing.definition, existing.role_arn, existing.type) == (definition, role_arn, machine_type):
                    return {"stateMachineArn": arn, "creationDate": epoch_seconds(existing.creation_date)}
                raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            machine = StateMachine(arn, name, definition, program, role_arn, machine_type, self.engine.clock.now(),
                                   logging, tracing)
            machine.tags = {t["key"]: t.get("value", "") for t in body.get("tags") or ()}
            self.machines[arn] = machine
        return {"stateMachineArn": arn, "creationDate": epoch_seconds(machine.creation_date)}

    def _describe_state_machine(self, body: dict) -> dict:
        m = self._machine(self._required(body, "stateMachineArn"))
        return {
            "stateMachineArn": m.arn, "name": m.name, "status": "ACTIVE", "definition": m.definition,
            "roleArn": m.role_arn, "type": m.type, "creationDate": epoch_seconds(m.creation_date),
            "loggingConfiguration": m.logging, "tracingConfiguration": m.tracing, "revisionId": m.revision_id,
        }

    def _list_state_machines(self, body: dict) -> dict:
        with self._lock:
            items = [{"stateMachineArn": m.arn, "name": m.name, "type": m.type,
                      "creationDate": epoch_seconds(m.creation_date)} for m in self.machines.values()]
        items.sort(key=lambda item: item["name"])
        return self._page(items, body, "stateMachines")

    def _update_state_machine(self, body: dict) -> dict:
        m = self._machine(self._required(body, "stateMachineArn"))
        if not any(k in body for k in ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")):
            raise errors.ValidationException("Either the definition, the role ARN, the LoggingConfiguration, or the "
                                             "TracingConfiguration must be specified")
        if "definition" in body:
            m.program = self.engine.compile(body["definition"])
            m.definition = body["definition"]
        m.role_arn = body.get("roleArn", m.role_arn)
        m.logging = body.get("loggingConfiguration", m.logging)
        m.tracing = body.get("tracingConfiguration", m.tracing)
        m.update_date = self.engine.clock.now()
        m.revision_id = str(uuid.uuid4())
        return {"updateDate": epoch_seconds(m.update_date), "revisionId": m.revision_id}

    def _validate_state_machine_definition(self, body: dict) -> dict:
        definition = self._required(body, "definition")
        severity = body.get("severity") or ERROR
        machine_type = body.get("type") or "STANDARD"
        max_results = body.get("maxResults") or 100
        if severity not in (ERROR, WARNING):
            raise errors.ValidationException(f"1 validation error detected: Value '{severity}' at 'severity' failed "
                                             f"to satisfy constraint: Member must satisfy enum value set: "
                                             f"[ERROR, WARNING]")
        if machine_type not in ("STANDARD", "EXPRESS"):
            raise errors.ValidationException(f"1 validation error detected: Value '{machine_type}' at 'type' failed "
                                             f"to satisfy constraint: Member must satisfy enum value set: "
                                             f"[STANDARD, EXPRESS]")
        if not isinstance(max_results, int) or not 0 <= max_results <= 100:
            raise errors.ValidationException(f"1 validation error detected: Value '{max_results}' at 'maxResults' "
                                             f"failed to satisfy constraint: Member must have value less than or "
                                             f"equal to 100")
        if not isinstance(definition, str):
            raise errors.ValidationException("1 validation error detected: Value at 'definition' failed to satisfy "
                                             "constraint: Member must be a string")
        return validate_response(definition, severity, max_results)

    def _test_state(self, body: dict) -> dict:
        return TestStateRunner(self.engine, self.region, self.account_id).run(body)

    def _delete_state_machine(self, body: dict) -> dict:
        arn = self._required(body, "stateMachineArn")
        self._machine(arn)
        with self._lock:
            self.machines.pop(arn, None)
        return {}

    # -- executions -----------------------------------------------------------------------------------------

    def _test_case(self, body: dict) -> str | None:
        """Step Functions Local's ``<state machine ARN>#<test case>``: the mock config's test case to run with."""
        arn = body.get("stateMachineArn")
        if not isinstance(arn, str) or "#" not in arn:
            return None
        case = arn.split("#", 1)[1]
        if not case:
            raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        return case

    def _mocks_or_error(self, machine: StateMachine, test_case: str | None) -> None:
        if test_case is not None:
            try:
                self.engine.mocked_case(machine.name, test_case)
            except MockConfigError as exc:
                raise errors.ValidationException(str(exc)) from None

    def _prepare(self, body: dict) -> tuple[StateMachine, str, str, Any]:
        arn = self._required(body, "stateMachineArn")
        machine = self._machine(arn.split("#", 1)[0] if isinstance(arn, str) else arn)
        name = body.get("name") or str(uuid.uuid4())
        if not isinstance(name, str) or not _STANDARD_NAME.match(name):
            raise errors.InvalidName(f"Invalid Name: '{name}'")
        input_text, input_value = parse_execution_input(body.get("input"))
        return machine, name, input_text, input_value

    def _start_execution(self, body: dict) -> dict:
        execution = self._start(body)
        return {"executionArn": execution.arn, "startDate": epoch_seconds(execution.start_date)}

    def _start(self, body: dict) -> Execution:
        """StartExecution: the execution started (or the running one this request repeats)."""
        machine, name, input_text, input_value = self._prepare(body)
        test_case = self._test_case(body)
        self._mocks_or_error(machine, test_case)
        kind = "express" if machine.type == "EXPRESS" else "execution"
        arn = f"arn:aws:states:{self.region}:{self.account_id}:{kind}:{machine.name}:{name}"
        with self._lock:
            existing = self.engine.get(arn)
            if existing is not None:
                if existing.status == RUNNING and existing.input == input_text and machine.type == "STANDARD":
                    return existing
                raise errors.ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
            execution = self.engine.create(machine.program, arn=arn, name=name, state_machine_arn=machine.arn,
                                           state_machine_name=machine.name, input_text=input_text,
                                           input_value=input_value, role_arn=machine.role_arn,
                                           machine_type=machine.type, test_case=test_case)
            machine.executions[arn] = None
            self._execution_machine[arn] = machine
        self.engine.launch(execution)
        return execution

    def _start_sync_execution(self, body: dict) -> dict:
        machine, name, input_text, input_value = self._prepare(body)
        if machine.type != "EXPRESS":
            raise errors.StateMachineTypeNotSupported("This operation is not supported by this type of state "
                                                      "machine")
        test_case = self._test_case(body)
        self._mocks_or_error(machine, test_case)
        arn = f"arn:aws:states:{self.region}:{self.account_id}:express:{machine.name}:{name}:{uuid.uuid4()}"
        execution = self.engine.run_sync(machine.program, arn=arn, name=name, state_machine_arn=machine.arn,
                                         state_machine_name=machine.name, input_text=input_text,
                                         input_value=input_value, role_arn=machine.role_arn, machine_type="EXPRESS",
                                         test_case=test_case)
        out = execution.describe()
        out["billingDetails"] = {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
        return out

    def _forget_execution(self, arn: str) -> None:
        """The engine forgot a finished execution (its bound of finished executions): forget it here too."""
        with self._lock:
            machine = self._execution_machine.pop(arn, None)
            if machine is not None:
                machine.executions.pop(arn, None)

    def _describe_execution(self, body: dict) -> dict:
        execution = self._execution(self._required(body, "executionArn"))
        out = execution.describe()
        out["redriveCount"] = execution.redrive_count
        return out

    def _stop_execution(self, body: dict) -> dict:
        execution = self._execution(self._required(body, "executionArn"))
        execution.stop(body.get("error"), body.get("cause"))
        return {"stopDate": epoch_seconds(execution.stop_date)}

    def _list_executions(self, body: dict) -> dict:
        machine = self._machine(self._required(body, "stateMachineArn"))
        status = body.get("statusFilter")
        items = []
        with self._lock:
            arns = list(machine.executions)
        for arn in reversed(arns):
            e = self.engine.get(arn)
            if e is None or (status and e.status != status):
                continue
            item = {"executionArn": e.arn, "stateMachineArn": e.state_machine_arn, "name": e.name,
                    "status": e.status, "startDate": epoch_seconds(e.start_date)}
            if e.stop_date is not None:
                item["stopDate"] = epoch_seconds(e.stop_date)
            items.append(item)
        return self._page(items, body, "executions")

    def _get_execution_history(self, body: dict) -> dict:
        execution = self._execution(self._required(body, "executionArn"))
        events = execution.history.events(include_data=body.get("includeExecutionData", True))
        for event in events:
            event["timestamp"] = epoch_seconds(event["timestamp"])
        if body.get("reverseOrder"):
            events.reverse()
        return self._page(events, body, "events")

    def _describe_state_machine_for_execution(self, body: dict) -> dict:
        execution = self._execution(self._required(body, "executionArn"))
        machine = self._execution_machine.get(execution.arn) or self.machines.get(execution.state_machine_arn)
        if machine is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{execution.state_machine_arn}'")
        return {
            "stateMachineArn": machine.arn, "name": machine.name, "definition": machine.definition,
            "roleArn": machine.role_arn, "updateDate": epoch_seconds(machine.update_date or machine.creation_date),
            "loggingConfiguration": machine.logging, "tracingConfiguration": machine.tracing,
            "revisionId": machine.revision_id,
        }

    # -- callbacks ------------------------------------------------------------------------------------------

    def _send_task_success(self, body: dict) -> dict:
        token = self._required(body, "taskToken")
        output = self._required(body, "output")
        try:
            value = json.loads(output)
        except (TypeError, ValueError):
            raise errors.InvalidOutput(f"Invalid Output: '{output}'") from None
        self.engine.callbacks.succeed(token, value)
        return {}

    def _send_task_failure(self, body: dict) -> dict:
        token = self._required(body, "taskToken")
        self.engine.callbacks.fail(token, body.get("error") or "", body.get("cause") or "")
        return {}

    def _send_task_heartbeat(self, body: dict) -> dict:
        self.engine.callbacks.heartbeat(self._required(body, "taskToken"))
        return {}

    # -- tags -----------------------------------------------------------------------------------------------

    def _tag_resource(self, body: dict) -> dict:
        machine = self._machine(self._required(body, "resourceArn"))
        for tag in self._required(body, "tags"):
            machine.tags[tag["key"]] = tag.get("value", "")
        return {}

    def _untag_resource(self, body: dict) -> dict:
        machine = self._machine(self._required(body, "resourceArn"))
        for key in self._required(body, "tagKeys"):
            machine.tags.pop(key, None)
        return {}

    def _list_tags_for_resource(self, body: dict) -> dict:
        machine = self._machine(self._required(body, "resourceArn"))
        return {"tags": [{"key": k, "value": v} for k, v in machine.tags.items()]}


# The operations served, as X-Amz-Target names them, and the method answering each (docs/engine.md lists them).
OPERATIONS: dict[str, Callable[[StepFunctionsService, dict], dict]] = {
    "CreateStateMachine": StepFunctionsService._create_state_machine,
    "UpdateStateMachine": StepFunctionsService._update_state_machine,
    "DeleteStateMachine": StepFunctionsService._delete_state_machine,
    "DescribeStateMachine": StepFunctionsService._describe_state_machine,
    "ListStateMachines": StepFunctionsService._list_state_machines,
    "ValidateStateMachineDefinition": StepFunctionsService._validate_state_machine_definition,
    "StartExecution": StepFunctionsService._start_execution,
    "StartSyncExecution": StepFunctionsService._start_sync_execution,
    "DescribeExecution": StepFunctionsService._describe_execution,
    "StopExecution": StepFunctionsService._stop_execution,
    "ListExecutions": StepFunctionsService._list_executions,
    "GetExecutionHistory": StepFunctionsService._get_execution_history,
    "DescribeStateMachineForExecution": StepFunctionsService._describe_state_machine_for_execution,
    "SendTaskSuccess": StepFunctionsService._send_task_success,
    "SendTaskFailure": StepFunctionsService._send_task_failure,
    "SendTaskHeartbeat": StepFunctionsService._send_task_heartbeat,
    "TestState": StepFunctionsService._test_state,
    "TagResource": StepFunctionsService._tag_resource,
    "UntagResource": StepFunctionsService._untag_resource,
    "ListTagsForResource": StepFunctionsService._list_tags_for_resource,
}
