"""statelint on every state machine of the template, after its DefinitionSubstitutions are applied.

Linting the rendered definition (not the raw file with ``${...}`` placeholders) avoids statelint's false
positives on placeholder Resources and checks what Step Functions will actually receive.
Exit code 1 when any definition has a problem. Used by ``make validate``.
"""
from __future__ import annotations

import sys

from statelint.config import Config
from statelint.linter import Linter
from statelint.problem import ProblemType

from local_runtime.config import REPO_ROOT
from local_runtime.template import load_template, render_definition

# Integer BackoffRate values are valid ASL (the spec says "a number"); statelint 3.1.0 wants a float.
IGNORED = {ProblemType.FLOAT}


def lint(template_path=REPO_ROOT / "template.yaml") -> dict[str, list[str]]:
    stack = load_template(template_path)
    problems = {}
    for resource in stack.of_type("AWS::StepFunctions::StateMachine"):
        name = resource.local_path or resource.logical_id
        problems[name] = Linter.validate(render_definition(resource), Config(ignored_problem_types=IGNORED))
    return problems


def main() -> int:
    problems = lint()
    failed = False
    for name, found in problems.items():
        if found:
            failed = True
            print(f"{name}: {len(found)} problem(s)")
            for problem in found:
                print(f"  {problem}")
        else:
            print(f"{name}: OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
