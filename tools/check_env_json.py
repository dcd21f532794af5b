"""``make validate``: env.json reaches sam local invoke's containers as written (run with SAM CLI's Python).

SAM CLI passes a function only the environment variables its template declares; this resolves every function's
environment exactly as ``sam local invoke --env-vars env.json`` does (SAM CLI's own code, without Docker) and fails
when a value of env.json would not reach the container."""
import json
import sys

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


class _Runner:
    """The part of LocalLambdaRunner that _make_env_vars reads."""

    def __init__(self, env_vars_values: dict) -> None:
        self.env_vars_values = env_vars_values

    def get_aws_creds(self) -> dict:
        return {}

    def is_debugging(self) -> bool:
        return False


def main(template: str, env_file: str) -> int:
    wanted = json.loads(open(env_file).read())
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    runner = _Runner(wanted)
    problems, checked = [], 0
    for function in SamFunctionProvider(stacks).get_all():
        resolved = LocalLambdaRunner._make_env_vars(runner, function).resolve()  # noqa: SLF001
        expected = {**wanted.get("Parameters", {}), **wanted.get(function.name, {})}
        for name, value in expected.items():
            checked += 1
            if resolved.get(name) != value:
                problems.append(f"{function.name}: {name} would be {resolved.get(name)!r}, env.json says {value!r}")
    for problem in problems:
        print(problem)
    print(f"env.json: {checked - len(problems)} of {checked} variables reach sam local invoke's containers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
