"""env.json for ``sam local invoke --env-vars env.json`` (Docker users): the functions in SAM CLI's containers use
this runtime's endpoint and its resource names.

SAM CLI resolves ``!Ref SomeTable`` in a function's environment to the logical id (``OrdersTable``), not to the
table's name, and it passes a container only the variables the template declares for the function, each
overridable from the file: per function (by logical id) and, under ``Parameters``, for all. So the file gives every
variable that refers to a resource its value as the local runtime resolves it (``dofs-OrdersTable``, state machine
ARNs, the bus name; literal values and template parameters SAM CLI resolves itself, so ``--parameter-overrides``
still works for them), and ``Parameters`` the endpoint: ``AWS_ENDPOINT_URL`` and ``AWS_DISABLE_HOST_PREFIX_INJECTION``, which the
template declares as ``!Ref AWS::NoValue`` (absent on AWS) so that the file may set them. ``make validate`` checks
the file against SAM CLI's own resolution (tools/check_env_json.py); a contract test checks it is up to date
(``python -m local_runtime env-json > env.json`` writes it).
"""
from __future__ import annotations

from typing import Any

from local_runtime.config import ACCOUNT_ID, REGION, Settings

CONTAINER_ENDPOINT = "http://host.docker.internal:4566"


def env_vars(settings: Settings, endpoint: str = CONTAINER_ENDPOINT) -> dict[str, Any]:
    from pathlib import Path

    from samtranslator.yaml_helper import yaml_parse

    from local_runtime.template import load_template

    raw = yaml_parse(Path(settings.template).read_text())
    resources = set(raw.get("Resources") or {})
    globals_vars = (((raw.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    stack = load_template(settings.template, settings.overrides, stack_name=settings.stack_name, region=REGION,
                          account_id=ACCOUNT_ID, endpoint_url=endpoint)
    out: dict[str, Any] = {"Parameters": {"AWS_ENDPOINT_URL": endpoint, "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}}
    for resource in stack.of_type("AWS::Lambda::Function"):
        declared = {**globals_vars, **((((raw["Resources"].get(resource.logical_id) or {}).get("Properties") or {})
                                        .get("Environment") or {}).get("Variables") or {})}
        variables = (resource.properties.get("Environment") or {}).get("Variables") or {}
        wanted = {name: str(value) for name, value in sorted(variables.items())
                  if _refers_to(declared.get(name), resources)}
        if wanted:
            out[resource.logical_id] = wanted
    return out


def _refers_to(value: Any, resources: set[str]) -> bool:
    """Whether a template value refers to one of ``resources`` (Ref, GetAtt, or a ${Name} in Sub)."""
    import re

    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"] in resources
        if "Fn::GetAtt" in value:
            return True
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return any(name.split(".")[0] in resources for name in re.findall(r"\$\{([^}!]+)\}", text))
        return any(_refers_to(item, resources) for item in value.values())
    if isinstance(value, list):
        return any(_refers_to(item, resources) for item in value)
    return False
