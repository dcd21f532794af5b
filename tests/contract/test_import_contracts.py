"""Contract: the imports keep the architecture of .importlinter (import-linter's lint-imports).

The root packages live in two folders (functions/ and local_runtime/ at the root, fulfillment under layers/shared, as
on pytest's pythonpath): lint-imports runs from the root, which it puts on sys.path itself, with layers/shared on
PYTHONPATH. Each of the app's and the runtime's contracts is also broken on purpose, in a scratch copy, to show the
check can fail."""

import configparser
import re
import shutil
from pathlib import Path

import pytest

from tests.support.import_linter import LINT_IMPORTS, ROOT, lint_imports, runtime_copy


def test_the_repository_keeps_every_import_contract():
    assert LINT_IMPORTS.is_file(), "import-linter is not installed (requirements-dev.txt)"
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken\.", result.stdout), result.stdout


# (contract id, file of the scratch copy, a line that breaks that contract and no other)
BREAKS = [
    ("app-never-imports-runtime", "layers/shared/fulfillment/models.py", "import local_runtime.config"),
    ("handlers-above-domain", "layers/shared/fulfillment/payments.py", "import functions"),
    ("handlers-independent", "functions/store_order/app.py", "from functions.validate_order import app as other"),
    ("handlers-reach-data-through-use-cases", "functions/store_order/app.py", "from fulfillment import repository"),
    ("fulfillment-layers", "layers/shared/fulfillment/status.py", "from fulfillment import config"),
    ("fulfillment-layers", "layers/shared/fulfillment/shortcuts.py", "from fulfillment import errors"),
    ("app-acyclic", "layers/shared/fulfillment/api/orders.py", "from fulfillment.api import approval"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A copy of the app's packages and the import contracts; the other root packages linked, never written."""
    root = tmp_path_factory.mktemp("imports")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "functions", root / "functions", ignore=ignore)
    shutil.copytree(ROOT / "layers" / "shared" / "fulfillment", root / "layers" / "shared" / "fulfillment",
                    ignore=ignore)
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    for package in config["importlinter"]["root_packages"].split():  # the others (local_runtime...): linked
        if package not in ("functions", "fulfillment"):
            (root / package).symlink_to(ROOT / package, target_is_directory=True)
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


@pytest.mark.parametrize(("contract", "path", "line"), BREAKS, ids=[f"{c}:{Path(p).name}" for c, p, _ in BREAKS])
def test_each_contract_of_the_app_can_break(scratch, contract, path, line):
    assert lint_imports(scratch).returncode == 0
    target = scratch / path
    original = target.read_text() if target.exists() else None
    target.write_text((original or "") + f"\n{line}\n")
    try:
        broken = lint_imports(scratch, "--contract", contract)
        everything = lint_imports(scratch)
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_text(original)
    assert broken.returncode == 1 and "BROKEN" in broken.stdout, broken.stdout + broken.stderr
    assert re.search(r"Contracts: \d+ kept, 1 broken\.", everything.stdout), everything.stdout  # that one only


# the runtime's contracts: (contract id, file of the scratch copy of local_runtime, a line that breaks that one only)
RUNTIME_BREAKS = [
    ("runtime-layers", "local_runtime/cfn.py", "import local_runtime.botocore_cache"),  # a sibling of its layer
    ("runtime-services-independent", "local_runtime/sns/models.py", "from local_runtime.awslambda import models"),
    ("runtime-acyclic", "local_runtime/gateway/stats.py", "from local_runtime.gateway import inprocess"),
]


@pytest.fixture(scope="module")
def runtime_scratch(tmp_path_factory) -> Path:
    """A copy of the runtime's package and the import contracts; the app's packages linked, never written."""
    return runtime_copy(tmp_path_factory.mktemp("runtime-imports"))


@pytest.mark.parametrize(("contract", "path", "line"), RUNTIME_BREAKS, ids=[c for c, _, _ in RUNTIME_BREAKS])
def test_each_contract_of_the_runtime_can_break(runtime_scratch, contract, path, line):
    test_each_contract_of_the_app_can_break(runtime_scratch, contract, path, line)
