"""import-linter's lint-imports for the import-contract tests (tests/contract/test_*import_contracts.py): run on the
repository or on a scratch copy of it, in which a contract is broken on purpose."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path, *args: str) -> subprocess.CompletedProcess:
    """lint-imports from ``root`` (which it puts on sys.path itself), with layers/shared on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(root / "layers" / "shared")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


def runtime_copy(root: Path) -> Path:
    """A copy of the runtime's package (its Python code) and the import contracts under ``root``; the app's packages
    linked, never written."""
    shutil.copytree(ROOT / "local_runtime", root / "local_runtime",
                    ignore=shutil.ignore_patterns("__pycache__", "node_modules", "static"))
    (root / "functions").symlink_to(ROOT / "functions", target_is_directory=True)
    (root / "layers" / "shared").mkdir(parents=True)
    (root / "layers" / "shared" / "fulfillment").symlink_to(ROOT / "layers" / "shared" / "fulfillment",
                                                            target_is_directory=True)
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root
