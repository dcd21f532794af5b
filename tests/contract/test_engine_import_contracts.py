"""Contract: the Step Functions engine's import contracts (.importlinter, section "the Step Functions engine") fail
when one of the cycles issue 15 removed comes back, or a task component imports another.

Each break is one import added to a module of a scratch copy of local_runtime/ (its Python files only), inside a
function as the old cycles hid them: grimp sees imports made anywhere in a module, so each of them still breaks
the acyclic contract and the layers it crosses."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
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


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "layers" / "shared")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=60)


def broken_contracts(output: str) -> set[str]:
    """The names of the contracts lint-imports reports BROKEN (a long name wraps over lines)."""
    listing = output.split(" dependencies.\n", 1)[1].split("\nContracts: ", 1)[0]
    text = " ".join(line.strip() for line in listing.splitlines() if line.strip() and set(line.strip()) != {"-"})
    parts = re.split(r" (KEPT|BROKEN)(?: |$)", text)  # name, status, name, status, ..., ""
    return {parts[i - 1] for i in range(1, len(parts), 2) if parts[i] == "BROKEN"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("engine-imports")

    def not_python(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if name == "__pycache__" or
                (not name.endswith(".py") and not os.path.isdir(os.path.join(folder, name)))}

    shutil.copytree(ROOT / "local_runtime", root / "local_runtime", ignore=not_python)
    for linked in ("functions", "layers"):
        (root / linked).symlink_to(ROOT / linked, target_is_directory=True)
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


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
