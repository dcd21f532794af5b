"""Contract: the code has no undefined name, unused import or unused variable (ruff's pyflakes rules, F).

An undefined name is a NameError waiting for the one path no test takes; an unused import after a move is how a
cycle or a stale module hides. The check is shown to fail on a scratch file that breaks it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
CODE = ["functions", "layers", "local_runtime", "benchmarks", "tests", "tools"]


def ruff(*paths: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), "check", "--select", "F", "--no-cache", "--output-format", "concise",
                           *paths], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_code_passes_pyflakes_rules():
    assert RUFF.is_file(), "ruff is not installed (requirements-dev.txt)"
    result = ruff(*CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_on_an_undefined_name_and_an_unused_import(tmp_path):
    (tmp_path / "broken.py").write_text("import json\n\n\ndef f():\n    return undefined_name\n")
    result = ruff("broken.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "F401" in result.stdout and "F821" in result.stdout, result.stdout
