"""A REST API's deployed stage as the emulator reads it from the swagger 2.0 ``Body`` that aws-sam-translator emits
(responses.py has what is read): its resources and methods (integration, validators, models, API key requirement),
gateway responses and binary media types, and which resource a path matches (the most specific wins: literal >
``{param}`` > ``{proxy+}``, segment by segment; the stage prefix is optional locally).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import jsonschema

ANY_METHOD = "x-amazon-apigateway-any-method"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
DEFAULT_INTEGRATION_TIMEOUT = 29.0
_FUNCTION_IN_URI = re.compile(r"/functions/(?P<function>.+?)/invocations$")


@dataclass
class Method:
    resource: str                       # "/orders/{orderId}"
    http_method: str                    # "GET", or "ANY"
    spec: dict
    function: str | None                # function ARN of an aws_proxy integration
    integration_type: str
    timeout: float
    validate_body: bool = False
    validate_params: bool = False
    body_schema: dict | None = None
    body_required: bool = False
    required_params: list[tuple[str, str]] = field(default_factory=list)  # (location, name)
    api_key_required: bool = False


@dataclass
class Resource:
    path: str
    segments: list[tuple[int, str]]     # (rank, text): 0 literal, 1 {param}, 2 {proxy+}
    methods: dict[str, Method]


def function_from_integration_uri(uri: str) -> str:
    """``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`` -> ``<arn>``."""
    match = _FUNCTION_IN_URI.search(uri or "")
    if not match:
        raise ValueError(f"not a Lambda integration uri: {uri!r}")
    return match.group("function")


class RestApi:
    """The resources, methods and settings of one stage of a REST API."""

    def __init__(self, body: dict, stage: str, integration_timeout: float | None = None) -> None:
        self.body = body
        self.stage = stage
        self._timeout_override = integration_timeout
        self.gateway_responses: dict = body.get("x-amazon-apigateway-gateway-responses") or {}
        self.binary_media_types: list[str] = [t.replace("~1", "/")
                                              for t in body.get("x-amazon-apigateway-binary-media-types") or []]
        self.resources = self._load_resources()

    def _load_resources(self) -> list[Resource]:
        validators = self.body.get("x-amazon-apigateway-request-validators") or {}
        default_validator = self.body.get("x-amazon-apigateway-request-validator")
        definitions = self.body.get("definitions") or {}
        security_definitions = self.body.get("securityDefinitions") or {}
        api_key_schemes = {name for name, d in security_definitions.items()
                           if d.get("type") == "apiKey" and d.get("in", "header") == "header"
                           and d.get("name", "x-api-key").lower() == "x-api-key"}
        global_security = self.body.get("security") or []
        resources = []
        for path, item in (self.body.get("paths") or {}).items():
            methods: dict[str, Method] = {}
            for key, spec in item.items():
                if key == ANY_METHOD:
                    verb = "ANY"
                elif key.lower() in HTTP_METHODS:
                    verb = key.upper()
                else:
                    continue
                methods[verb] = self._load_method(path, verb, spec, validators, default_validator, definitions,
                                                  api_key_schemes, global_security)
            resources.append(Resource(path, self._segments(path), methods))
        return resources

    def routes(self, api_key_required: bool | None = None) -> list[str]:
        """``"POST /orders"`` for every method of a proxy or mock integration (only those that need a key, or only
        those that do not, when ``api_key_required`` is given)."""
        return [f"{verb} {resource.path}" for resource in self.resources for verb, method in resource.methods.items()
                if api_key_required is None or method.api_key_required == api_key_required]

    @staticmethod
    def _segments(path: str) -> list[tuple[int, str]]:
        segments = []
        for part in [p for p in path.split("/") if p]:
            if part.startswith("{") and part.endswith("+}"):
                segments.append((2, part[1:-2]))
            elif part.startswith("{") and part.endswith("}"):
                segments.append((1, part[1:-1]))
            else:
                segments.append((0, part))
        return segments

    def _load_method(self, path: str, verb: str, spec: dict, validators: dict, default_validator: str | None,
                     definitions: dict, api_key_schemes: set[str], global_security: list) -> Method:
        integration = spec.get("x-amazon-apigateway-integration") or {}
        integration_type = str(integration.get("type", "")).lower()
        function = None
        if integration_type == "aws_proxy":
            function = function_from_integration_uri(integration.get("uri", ""))
        timeout = self._timeout_override
        if timeout is None:
            timeout = integration.get("timeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT * 1000) / 1000
        method = Method(path, verb, spec, function, integration_type, float(timeout))
        validator = validators.get(spec.get("x-amazon-apigateway-request-validator", default_validator) or "", {})
        method.validate_body = bool(validator.get("validateRequestBody"))
        method.validate_params = bool(validator.get("validateRequestParameters"))
        for param in spec.get("parameters") or []:
            location = param.get("in")
            if location == "body":
                method.body_required = bool(param.get("required"))
                schema = param.get("schema")
                ref = (schema or {}).get("$ref", "")
                if ref.startswith("#/definitions/") and ref.split("/")[-1] not in definitions:
                    raise ValueError(f"{verb} {path}: body model {ref} is not in the API's definitions")
                if schema:
                    method.body_schema = {**schema, "definitions": definitions}
                    jsonschema.Draft4Validator.check_schema(method.body_schema)
            elif param.get("required") and location in ("query", "header", "path"):
                method.required_params.append((location, param["name"]))
        security = spec.get("security", global_security) or []
        method.api_key_required = any(name in api_key_schemes for req in security for name in req)
        return method

    def match(self, path: str) -> tuple[Resource, dict[str, str]] | None:
        parts = [p for p in path.split("/") if p]
        best: tuple[tuple, Resource, dict[str, str]] | None = None
        for resource in self.resources:
            params = self._match_segments(resource.segments, parts)
            if params is None:
                continue
            rank = tuple(r for r, _ in resource.segments)
            if best is None or rank < best[0]:
                best = (rank, resource, params)
        return (best[1], best[2]) if best else None

    @staticmethod
    def _match_segments(segments: list[tuple[int, str]], parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, (rank, text) in enumerate(segments):
            if rank == 2:
                if i >= len(parts):
                    return None
                params[text] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if rank == 0 and parts[i] != text:
                return None
            if rank == 1:
                params[text] = parts[i]
        return params if len(parts) == len(segments) else None

    def split_stage(self, path: str) -> tuple[str, bool]:
        prefix = f"/{self.stage}"
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix):] or "/", True
        return path, False

    def is_binary_type(self, content_type: str) -> bool:
        media = content_type.split(";")[0].strip().lower()
        for pattern in self.binary_media_types:
            pattern = pattern.lower()
            if pattern == "*/*" or pattern == media or (
                    pattern.endswith("/*") and media.startswith(pattern[:-1])):
                return True
        return False
