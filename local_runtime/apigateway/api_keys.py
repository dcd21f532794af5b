"""API keys of the template (``AWS::ApiGateway::ApiKey``) and the usage plans that let them call a stage.

API Gateway accepts a key on a method with ``ApiKeyRequired`` only when the key is enabled and belongs (through an
``AWS::ApiGateway::UsagePlanKey``) to a usage plan whose ``ApiStages`` include the API's stage; legacy ``StageKeys``
on the key count as well. SAM's ``Auth: {ApiKeyRequired: true, UsagePlan: {CreateUsagePlan: PER_API}}`` creates
exactly these three resources.

A key without ``Value`` gets a generated one on AWS; locally the value is derived from the stack name and the logical
id (40 characters, stable across restarts), so scripts and tests can read it from ``/_local/api-keys`` or the
banner. ``Enabled`` defaults to false, as in CloudFormation. Throttling and quotas of usage plans are not enforced.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from local_runtime.cfn import cfn_bool
from local_runtime.template import Stack


@dataclass(frozen=True)
class ApiKey:
    logical_id: str
    key_id: str
    value: str
    enabled: bool
    usable: bool  # enabled and attached to this API stage
    description: str = ""

    def as_dict(self, routes: list[str] | None = None) -> dict:
        """``routes``: the methods API Gateway admits this key on (those that require a key, if it is usable)."""
        return {"id": self.key_id, "value": self.value, "enabled": self.enabled, "usable": self.usable,
                "description": self.description, "routes": list(routes or []) if self.usable else []}


def generated_value(stack_name: str, logical_id: str) -> str:
    return hashlib.sha256(f"{stack_name}/{logical_id}/api-key".encode()).hexdigest()[:40]


def api_keys(stack: Stack, rest_api_id: str, stage: str) -> list[ApiKey]:
    plans = {
        plan.physical_id for plan in stack.of_type("AWS::ApiGateway::UsagePlan")
        if any(s.get("ApiId") == rest_api_id and s.get("Stage") == stage
               for s in plan.properties.get("ApiStages") or [])
    }
    planned_keys = {
        link.properties.get("KeyId") for link in stack.of_type("AWS::ApiGateway::UsagePlanKey")
        if link.properties.get("UsagePlanId") in plans
    }
    keys = []
    for resource in stack.of_type("AWS::ApiGateway::ApiKey"):
        props = resource.properties
        value = str(props.get("Value") or generated_value(stack.name, resource.logical_id))
        enabled = cfn_bool(props.get("Enabled"), default=False)
        legacy = any(k.get("RestApiId") == rest_api_id and k.get("StageName") == stage
                     for k in props.get("StageKeys") or [])
        usable = enabled and (resource.physical_id in planned_keys or legacy)
        keys.append(ApiKey(resource.logical_id, resource.physical_id, value, enabled, usable,
                           str(props.get("Description") or "")))
    return keys
