"""Contract: the Step Functions engine's import contracts (.importlinter, section "the Step Functions engine") fail
when one of the cycles issue 15 removed comes back, or a task component imports another.

Each break is one import added to a module of a scratch copy of local_runtime/ (tests/support/import_linter.py),
inside a function as the old cycles hid them: grimp sees imports made anywhere in a module, so each of them still
breaks the acyclic contract and the layers it crosses."""

import re
from pathlib import Path

import pytest

from tests.support.import_linter import ROOT, lint_imports, runtime_copy

ENGINE = "local_runtime/stepfunctions"
ACYCLIC = "No import cycles between the modules of the Step Functions engine or of its packages"
LAYERS = "The Step Functions engine is layered"
COMPONENTS = "Task integrations: the factory picks a component"

# (the module given one more import, the import, the contracts it breaks): the five cycles named in issue 15
BREAKS = [
    ("execution.py", "from .engine import Engine", {ACYCLIC, LAYERS}),  # engine <-> execution
    # parser -> validation -> parser: the two share a layer (parser : validation), the acyclic contract catches it
    ("validation.py", "from .parser import parse_definition", {ACYCLIC}),
    ("distributed_map.py", "from .execution import Execution", {ACYCLIC, LAYERS}),  # states -> distributed_map ->
    ("paths.py", "from .intrinsics import parse_intrinsic", {ACYCLIC, LAYERS}),  # paths <-> intrinsics <-> variables
    ("test_state.py", "from .service import StepFunctionsService", {ACYCLIC, LAYERS}),  # service <-> test_state
    ("integrations/sqs.py", "from .sns import SnsPublish", {COMPONENTS}),  # components stay independent
    ("integrations/base.py", "from .awslambda import invoke", {ACYCLIC, COMPONENTS}),
]


def broken_contracts(output: str) -> set[str]:
    """The names of the contracts lint-imports reports BROKEN (a long name wraps over lines)."""
    listing = output.split(" dependencies.\n", 1)[1].split("\nContracts: ", 1)[0]
    text = " ".join(line.strip() for line in listing.splitlines() if line.strip() and set(line.strip()) != {"-"})
    parts = re.split(r" (KEPT|BROKEN)(?: |$)", text)  # name, status, name, status, ..., ""
    return {parts[i - 1] for i in range(1, len(parts), 2) if parts[i] == "BROKEN"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return runtime_copy(tmp_path_factory.mktemp("engine-imports"))


def test_the_engine_contracts_exist():
    contracts = (ROOT / ".importlinter").read_text()
    for contract in ("engine-layers", "engine-integrations-layers", "engine-acyclic"):
        assert f"[importlinter:contract:{contract}]" in contracts


@pytest.mark.parametrize(("module", "line", "contracts"), BREAKS, ids=[f"{m}:{l.split()[-1]}" for m, l, _ in BREAKS])
def test_a_cycle_or_a_component_import_brings_back_fails(scratch, module, line, contracts):
    assert lint_imports(scratch).returncode == 0
    target = scratch / ENGINE / module
    original = target.read_text()
    target.write_text(original + f"\n\ndef _reintroduced():\n    {line}\n")
    try:
        result = lint_imports(scratch)
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = broken_contracts(result.stdout)
    assert len(broken) == len(contracts), result.stdout  # those contracts and no other
    assert {prefix for prefix in contracts if any(name.startswith(prefix) for name in broken)} == contracts, broken
