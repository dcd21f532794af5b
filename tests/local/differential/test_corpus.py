"""Differential corpus: every case in ``corpus/*.json`` runs on our engine and on moto's Step Functions engine.

Compared: status, output (parsed JSON), error, cause. Both engines get the same state machine name, execution name
and input, so context-object values such as ``$$.Execution.Name`` agree.

A case whose reference is wrong carries ``reference_bug`` (what moto does wrong, with the AWS document that says
otherwise), ``expected`` (the documented result, asserted on our engine) and ``reference_result`` (what moto gives,
asserted on moto, so the note fails loudly once moto changes; it may list only some keys). See
docs/engine-differential.md.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local_runtime.errors import InvalidDefinition
from local_runtime.stepfunctions import Engine, Integrations, StepFunctionsService, VirtualClock
from tests.support.moto_sfn import one_moto_parse_at_a_time

CORPUS = Path(__file__).with_name("corpus")
ROLE = "arn:aws:iam::123456789012:role/sfn"
MIN_CASES = 150
MOTO_DEADLINE_SECONDS = 30
REJECTED = {"status": "CreateStateMachine rejected the definition"}
CASE_KEYS = {"name", "definition", "input", "note", "reference_bug", "expected", "reference_result"}


def load_corpus() -> list[dict]:
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        for case in json.loads(path.read_text()):
            cases.append({**case, "group": path.stem, "id": f"{path.stem}/{case['name']}"})
    return cases


CASES = load_corpus()


def _machine_name(case: dict) -> str:
    return case["id"].replace("/", "-")[:80]


def summary(described: dict) -> dict:
    """The compared part of a DescribeExecution answer."""
    out = {"status": described["status"]}
    if "output" in described:
        text = described["output"]
        try:
            out["output"] = json.loads(text)
        except ValueError:
            out["output_text_not_json"] = text  # never equal to a correct result: the case must say why
    for key in ("error", "cause"):
        if described.get(key) is not None:
            out[key] = described[key]
    return out


def run_on_moto(cases: list[dict]) -> dict[str, dict]:
    """Every case on moto (in-process), all started at once so moto's real-time retry sleeps overlap."""
    for name in ("moto", "moto.stepfunctions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    results: dict[str, dict] = {}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), one_moto_parse_at_a_time():
        client = boto3.client("stepfunctions", region_name="us-east-1")
        started = {}
        for case in cases:
            name = _machine_name(case)
            try:
                arn = client.create_state_machine(name=name, definition=json.dumps(case["definition"]),
                                                  roleArn=ROLE)["stateMachineArn"]
            except client.exceptions.ClientError:
                results[case["id"]] = REJECTED
                continue
            started[case["id"]] = client.start_execution(stateMachineArn=arn, name=name,
                                                         input=json.dumps(case["input"]))["executionArn"]
        deadline = time.monotonic() + MOTO_DEADLINE_SECONDS
        pending = dict(started)
        while pending and time.monotonic() < deadline:
            for case_id, arn in list(pending.items()):
                described = client.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    results[case_id] = summary(described)
                    del pending[case_id]
            if pending:
                time.sleep(0.02)
        for case_id, arn in pending.items():
            results[case_id] = summary(client.describe_execution(executionArn=arn))
    return results


def run_on_ours(cases: list[dict]) -> dict[str, dict]:
    """Every case on our engine: one service, one virtual clock that jumps over waits."""
    service = StepFunctionsService(Engine(VirtualClock(auto_advance=True), Integrations()))
    started = {}
    results = {}
    for case in cases:
        name = _machine_name(case)
        try:
            arn = service.handle("CreateStateMachine", {"name": name, "definition": json.dumps(case["definition"]),
                                                        "roleArn": ROLE})["stateMachineArn"]
        except InvalidDefinition:
            results[case["id"]] = REJECTED
            continue
        started[case["id"]] = service.handle("StartExecution", {"stateMachineArn": arn, "name": name,
                                                                "input": json.dumps(case["input"])})["executionArn"]
    for case_id, arn in started.items():
        service.engine.wait(arn, 10)
        results[case_id] = summary(service.handle("DescribeExecution", {"executionArn": arn}))
    service.engine.shutdown()
    return results


@pytest.fixture(scope="module")
def moto_results() -> dict[str, dict]:
    return run_on_moto(CASES)


@pytest.fixture(scope="module")
def our_results() -> dict[str, dict]:
    return run_on_ours(CASES)


def test_corpus_is_large_enough():
    assert len(CASES) >= MIN_CASES


def test_corpus_cases_are_well_formed():
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), "case names must be unique within a group"
    for case in CASES:
        assert set(case) - {"group", "id"} <= CASE_KEYS, case["id"]
        assert {"name", "definition", "input"} <= set(case), case["id"]
        marked = {"reference_bug", "expected", "reference_result"} & set(case)
        assert marked in (set(), {"reference_bug", "expected", "reference_result"}), (
            f"{case['id']}: reference_bug, expected and reference_result go together")


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_same_result_as_reference(case, our_results, moto_results):
    ours, reference = our_results[case["id"]], moto_results[case["id"]]
    if "reference_bug" in case:
        assert ours == case["expected"], f"ours differs from the documented result ({case['reference_bug']})"
        # reference_result may hold fewer keys than a result (a moto cause that embeds the wall-clock time)
        observed = {key: reference.get(key) for key in case["reference_result"]}
        assert observed == case["reference_result"], "moto no longer behaves as reference_bug says: review the case"
        assert reference != case["expected"]
    else:
        assert ours == reference
