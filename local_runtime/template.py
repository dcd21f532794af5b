"""Read the real SAM template: translate it, resolve parameters and intrinsics, and describe what to run locally.

The template is the single source of truth. The steps are the ones CloudFormation takes:

1. parse YAML with CloudFormation's short tags (aws-sam-translator's own parser);
2. remember every local path (``CodeUri``, ``ContentUri``, ``DefinitionUri``) and stand an S3 URI in for it, as
   ``sam validate`` does, then let aws-sam-translator turn SAM resources into CloudFormation ones (Globals, events,
   API definitions with models and validators, event source mappings, IAM roles);
3. give every resource a physical id (a name, URL or ARN) the way CloudFormation would, deterministically;
4. resolve ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::If`` and the rest over properties and Outputs.

Nothing here talks to a service: :mod:`local_runtime.provision` creates what this module describes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from local_runtime.errors import ValidationException

NO_VALUE = object()  # AWS::NoValue: the property is removed


class TemplateError(ValidationException):
    """The template cannot be run: a bad reference, an unknown intrinsic, a missing file."""


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    local_path: str | None = None  # CodeUri / ContentUri / DefinitionUri, absolute


@dataclass
class Stack:
    """A template resolved for one stack name, region and set of parameters."""

    name: str
    region: str
    account_id: str
    parameters: dict[str, str]
    resources: dict[str, Resource]
    outputs: dict[str, Any]
    root: Path

    def of_type(self, cfn_type: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == cfn_type]


def parse_overrides(text: str | None) -> dict[str, str]:
    """Parse ``sam deploy``'s ``--parameter-overrides`` syntax.

    Both ``Key=Value Key2=Value2`` and ``ParameterKey=Key,ParameterValue=Value`` are accepted; values may be quoted.
    """
    if not text or not text.strip():
        return {}
    import shlex

    result: dict[str, str] = {}
    for token in shlex.split(text):
        if token.startswith("ParameterKey="):
            match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
            if not match:
                raise TemplateError(f"Cannot parse parameter override {token!r}")
            key, value = match.group(1), match.group(2)
        elif "=" in token:
            key, value = token.split("=", 1)
        else:
            raise TemplateError(f"Cannot parse parameter override {token!r}: expected Key=Value")
        result[key] = value
    return result


# Local-path properties of SAM resources, by type.
_LOCAL_PATHS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


def load_template(
    path: str | os.PathLike,
    overrides: dict[str, str] | None = None,
    stack_name: str = "dofs",
    region: str = "us-east-1",
    account_id: str = "123456789012",
    endpoint_url: str = "http://127.0.0.1:4566",
) -> Stack:
    """Load and resolve ``template.yaml``; ``overrides`` are parameter values as ``sam deploy`` takes them."""
    template_path = Path(path).resolve()
    root = template_path.parent
    sam = yaml_parse(template_path.read_text())
    local_paths = _replace_local_paths(sam, root)
    parameters = _parameter_values(sam, overrides or {})
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    translator = Translator(managed_policy_map={}, sam_parser=Parser())
    try:
        cfn = translator.translate(sam, parameter_values=dict(parameters))
    except Exception as exc:  # the translator raises InvalidDocumentException with readable causes
        raise TemplateError(f"aws-sam-translator rejected {template_path.name}: {exc}") from exc

    resolver = _Resolver(cfn, stack_name, region, account_id, parameters, endpoint_url)
    resources = resolver.resolve_resources(local_paths)
    outputs = {
        key: resolver.resolve(value.get("Value"))
        for key, value in (cfn.get("Outputs") or {}).items()
        if resolver.condition_holds(value.get("Condition"))
    }
    return Stack(stack_name, region, account_id, parameters, resources, outputs, root)


def _replace_local_paths(sam: dict, root: Path) -> dict[str, str]:
    """Stand an S3 URI in for every local path (as ``sam validate`` does); return logical id -> absolute path."""
    found: dict[str, str] = {}
    globals_function = (sam.get("Globals") or {}).get("Function") or {}
    for logical_id, resource in (sam.get("Resources") or {}).items():
        prop = _LOCAL_PATHS.get(resource.get("Type"))
        if not prop:
            continue
        props = resource.setdefault("Properties", {})
        value = props.get(prop)
        if value is None and prop == "CodeUri":
            value = globals_function.get("CodeUri")
        if not isinstance(value, str) or value.startswith("s3://"):
            continue
        local = (root / value).resolve()
        if not local.exists():
            raise TemplateError(f"{logical_id}.{prop} names {value!r}, which does not exist")
        found[logical_id] = str(local)
        props[prop] = f"s3://local-artifacts/{logical_id}"
    return found


def _parameter_values(sam: dict, overrides: dict[str, str]) -> dict[str, str]:
    declared = sam.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"Parameter overrides name undeclared parameters: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"Parameter {name} has no Default and no override")
        values[name] = _check_parameter(name, spec, value)
    return values


def _check_parameter(name: str, spec: dict, value: Any) -> str:
    """Apply CloudFormation's parameter constraints, with its error wording."""
    text = str(value) if not isinstance(value, list) else ",".join(map(str, value))
    kind = spec.get("Type", "String")
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            raise TemplateError(f"Parameter '{name}' must be a number not '{text}'") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"Parameter '{name}' must be a number not less than {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}")
    allowed = spec.get("AllowedValues")
    if allowed is not None and text not in [str(a) for a in allowed]:
        raise TemplateError(f"Parameter '{name}' must be one of AllowedValues")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, text):
        raise TemplateError(
            spec.get("ConstraintDescription") or f"Parameter '{name}' must match pattern {pattern}"
        )
    return text


def _short_id(*parts: str, length: int = 10) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return digest[:length]


class _Resolver:
    """Physical ids and intrinsic functions over a translated (CloudFormation) template."""

    def __init__(self, cfn: dict, stack: str, region: str, account: str, params: dict, endpoint: str) -> None:
        self.cfn = cfn
        self.stack = stack
        self.region = region
        self.account = account
        self.endpoint = endpoint.rstrip("/")
        self.params: dict[str, Any] = dict(params)
        for name, spec in (cfn.get("Parameters") or {}).items():
            if spec.get("Type", "").startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                self.params[name] = str(self.params[name]).split(",")
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/{_short_id(stack, length=8)}",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.resources_raw: dict[str, dict] = cfn.get("Resources") or {}
        self._conditions: dict[str, bool] = {}
        self.physical: dict[str, str] = {}
        self.attributes: dict[str, dict[str, Any]] = {}
        self._naming: set[str] = set()
        for logical_id, resource in self.resources_raw.items():
            if logical_id not in self.physical and self.condition_holds(resource.get("Condition")):
                self._name_resource(logical_id, resource)

    # -- conditions ---------------------------------------------------------------------------------
    def condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        if name not in self._conditions:
            definition = (self.cfn.get("Conditions") or {}).get(name)
            if definition is None:
                raise TemplateError(f"Unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definition))
        return self._conditions[name]

    # -- physical ids -------------------------------------------------------------------------------
    def _name_prop(self, props: dict, key: str) -> str | None:
        value = props.get(key)
        return None if value is None else str(self.resolve(value))

    def _name_resource(self, logical_id: str, resource: dict) -> None:
        kind = resource["Type"]
        props = resource.get("Properties") or {}
        region, account = self.region, self.account
        default_name = f"{self.stack}-{logical_id}"
        attrs: dict[str, Any] = {}
        if kind == "AWS::DynamoDB::Table":
            name = self._name_prop(props, "TableName") or default_name
            physical = name
            attrs["Arn"] = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
            attrs["StreamArn"] = f"{attrs['Arn']}/stream/1970-01-01T00:00:00.000"
        elif kind == "AWS::SQS::Queue":
            name = self._name_prop(props, "QueueName") or default_name
            if props.get("FifoQueue") and not name.endswith(".fifo"):
                name += ".fifo"
            physical = f"{self.endpoint}/{account}/{name}"
            attrs.update(Arn=f"arn:aws:sqs:{region}:{account}:{name}", QueueName=name, QueueUrl=physical)
        elif kind == "AWS::SNS::Topic":
            name = self._name_prop(props, "TopicName") or default_name
            physical = f"arn:aws:sns:{region}:{account}:{name}"
            attrs.update(TopicArn=physical, TopicName=name)
        elif kind == "AWS::Lambda::Function":
            name = self._name_prop(props, "FunctionName") or default_name
            physical = name
            attrs["Arn"] = f"arn:aws:lambda:{region}:{account}:function:{name}"
        elif kind == "AWS::Lambda::LayerVersion":
            name = self._name_prop(props, "LayerName") or logical_id
            physical = f"arn:aws:lambda:{region}:{account}:layer:{name}:1"
        elif kind == "AWS::Lambda::Version":
            physical = f"arn:aws:lambda:{region}:{account}:function:{self.stack}-{logical_id}:1"
            attrs["Version"] = "1"
        elif kind == "AWS::StepFunctions::StateMachine":
            name = self._name_prop(props, "StateMachineName") or default_name
            physical = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
            attrs.update(Arn=physical, Name=name)
        elif kind == "AWS::ApiGateway::RestApi":
            physical = _short_id(self.stack, logical_id)
            attrs["RootResourceId"] = _short_id(self.stack, logical_id, "root")
        elif kind == "AWS::IAM::Role":
            name = self._name_prop(props, "RoleName") or f"{default_name}-{_short_id(logical_id, length=6)}"
            physical = name
            attrs.update(Arn=f"arn:aws:iam::{account}:role/{name}", RoleId=_short_id(name, length=21).upper())
        elif kind == "AWS::Events::EventBus":
            name = self._name_prop(props, "Name") or default_name
            physical = name
            attrs.update(Arn=f"arn:aws:events:{region}:{account}:event-bus/{name}", Name=name)
        elif kind == "AWS::Events::Rule":
            name = self._name_prop(props, "Name") or default_name
            physical = name
            attrs["Arn"] = f"arn:aws:events:{region}:{account}:rule/{name}"
        elif kind == "AWS::ApiGateway::Stage":
            physical = self._name_prop(props, "StageName") or default_name  # Ref gives the stage name
        elif kind == "AWS::ApiGateway::ApiKey":
            physical = _short_id(self.stack, logical_id, "apikey")  # Ref gives the key id
            attrs["APIKeyId"] = physical
        elif kind == "AWS::ApiGateway::UsagePlan":
            physical = _short_id(self.stack, logical_id, "usageplan", length=6)
            attrs["Id"] = physical
        elif kind == "AWS::Pipes::Pipe":
            name = self._name_prop(props, "Name") or default_name
            physical = name
            attrs.update(Arn=f"arn:aws:pipes:{region}:{account}:pipe/{name}")
        elif kind == "AWS::Logs::LogGroup":
            name = self._name_prop(props, "LogGroupName") or default_name
            physical = name
            attrs["Arn"] = f"arn:aws:logs:{region}:{account}:log-group:{name}:*"
        elif kind == "AWS::CloudWatch::Alarm":
            name = self._name_prop(props, "AlarmName") or default_name
            physical = name
            attrs["Arn"] = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
        else:
            physical = default_name
        self.physical[logical_id] = physical
        self.attributes[logical_id] = attrs

    def resolve_resources(self, local_paths: dict[str, str]) -> dict[str, Resource]:
        resolved: dict[str, Resource] = {}
        for logical_id, raw in self.resources_raw.items():
            if logical_id not in self.physical:
                continue  # its Condition is false
            props = self.resolve(raw.get("Properties") or {})
            resource = Resource(
                logical_id=logical_id,
                type=raw["Type"],
                properties=props,
                physical_id=self.physical[logical_id],
                attributes=self.attributes[logical_id],
                metadata=raw.get("Metadata") or {},
            )
            resource.local_path = self._local_path_of(resource, local_paths)
            resolved[logical_id] = resource
        return resolved

    @staticmethod
    def _local_path_of(resource: Resource, local_paths: dict[str, str]) -> str | None:
        """Map the S3 stand-in back to the local path it replaced."""
        props = resource.properties
        location = None
        if resource.type == "AWS::Lambda::Function":
            location = (props.get("Code") or {}).get("S3Key")
        elif resource.type == "AWS::Lambda::LayerVersion":
            location = (props.get("Content") or {}).get("S3Key")
        elif resource.type == "AWS::StepFunctions::StateMachine":
            location = (props.get("DefinitionS3Location") or {}).get("Key")
        return local_paths.get(location) if location else None

    # -- intrinsics ---------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = self._INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.physical or self._name_on_demand(name):
            return self.physical[name]
        raise TemplateError(f"Ref to unknown parameter or resource {name!r}")

    def _name_on_demand(self, logical_id: str) -> bool:
        """A resource whose name uses another's (``LogGroupName: !Sub /aws/lambda/${Function}``) may come first in
        the translated template: name the one it refers to now. False when there is no such resource."""
        raw = self.resources_raw.get(logical_id)
        if raw is None or logical_id in self._naming or not self.condition_holds(raw.get("Condition")):
            return False
        self._naming.add(logical_id)
        try:
            self._name_resource(logical_id, raw)
        finally:
            self._naming.discard(logical_id)
        return True

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical_id, attribute = arg[0], self.resolve(arg[1])
        if logical_id not in self.attributes and not self._name_on_demand(logical_id):
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        attrs = self.attributes[logical_id]
        if attribute not in attrs:
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute}: attribute not supported locally "
                f"(known: {', '.join(sorted(attrs)) or 'none'})"
            )
        return attrs[attribute]

    _SUB_VAR = re.compile(r"\$\{(!?)([^}]+)\}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}

        def replace(match: re.Match) -> str:
            if match.group(1) == "!":
                return "${" + match.group(2) + "}"  # ${!Literal}
            name = match.group(2).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.attributes:
                return str(self._get_att(name.split(".", 1)))
            return str(self._ref(name))

        return self._SUB_VAR.sub(replace, text)

    def _join(self, arg: list) -> str:
        delimiter, items = arg
        items = self.resolve(items)
        return str(delimiter).join(str(i) for i in items)

    def _select(self, arg: list) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    def _split(self, arg: list) -> list:
        delimiter, text = arg
        return str(self.resolve(text)).split(delimiter)

    def _if(self, arg: list) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition_holds(name) else when_false)

    def _equals(self, arg: list) -> bool:
        left, right = (self.resolve(a) for a in arg)
        return str(left) == str(right)

    def _and(self, arg: list) -> bool:
        return all(bool(self.resolve(a)) for a in arg)

    def _or(self, arg: list) -> bool:
        return any(bool(self.resolve(a)) for a in arg)

    def _not(self, arg: list) -> bool:
        return not bool(self.resolve(arg[0]))

    def _condition(self, name: str) -> bool:
        return self.condition_holds(name)

    def _find_in_map(self, arg: list) -> Any:
        map_name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self.cfn["Mappings"][map_name][top][second]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second}") from None

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _get_azs(self, _arg: Any) -> list[str]:
        return [f"{self.region}{suffix}" for suffix in "abc"]

    def _import_value(self, arg: Any) -> Any:
        raise TemplateError(f"Fn::ImportValue {self.resolve(arg)!r}: other stacks do not exist locally")

    def _to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

    def _length(self, arg: Any) -> int:
        return len(self.resolve(arg))

    _INTRINSICS = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Fn::Not": _not,
        "Condition": _condition,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Fn::ImportValue": _import_value,
        "Fn::ToJsonString": _to_json_string,
        "Fn::Length": _length,
    }


def render_definition(resource: Resource) -> str:
    """The state machine's ASL with ``DefinitionSubstitutions`` applied, as CloudFormation does."""
    props = resource.properties
    if resource.local_path:
        text = Path(resource.local_path).read_text()
    elif "DefinitionString" in props:
        text = props["DefinitionString"]
    elif "Definition" in props:
        text = json.dumps(props["Definition"])
    else:
        raise TemplateError(f"{resource.logical_id}: no definition found")
    substitutions = props.get("DefinitionSubstitutions") or {}

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key not in substitutions:
            raise TemplateError(f"{resource.logical_id}: ${{{key}}} has no DefinitionSubstitutions entry")
        return str(substitutions[key])

    return re.sub(r"\$\{([^}]+)\}", replace, text)
