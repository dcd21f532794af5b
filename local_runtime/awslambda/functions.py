"""A function as the runtime runs it: its configuration (:class:`FunctionSpec`), read from the resolved template
(:func:`function_spec`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from local_runtime.template import Stack, TemplateError


@dataclass
class FunctionSpec:
    name: str  # physical function name, e.g. "dofs-local-ValidateOrderFunction"
    arn: str  # arn:aws:lambda:us-east-1:123456789012:function:<name>
    handler: str  # "app.lambda_handler"
    code_dir: str  # absolute path (CodeUri)
    layer_dirs: list[str]  # absolute paths (each layer's ContentUri), put on PYTHONPATH after code_dir
    timeout: float  # seconds (template Timeout)
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)  # resolved template env vars
    runtime: str = "python3.13"
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions; None when the template sets none
    label: str = ""  # the template's logical id: what the terminal calls the function's log lines


def function_spec(stack: Stack, resource) -> FunctionSpec:
    """The FunctionSpec of an AWS::Lambda::Function of a resolved stack (code and layers as local directories)."""
    props = resource.properties
    if not resource.local_path:
        raise TemplateError(f"{resource.logical_id}: only local CodeUri functions can run locally")
    layers = {r.physical_id: r.local_path for r in stack.of_type("AWS::Lambda::LayerVersion")}
    layer_dirs = []
    for arn in props.get("Layers") or []:
        if arn not in layers or not layers[arn]:
            raise TemplateError(f"{resource.logical_id}: layer {arn} is not a local layer of this template")
        layer_dirs.append(layers[arn])
    return FunctionSpec(
        name=resource.physical_id,
        arn=resource.attributes["Arn"],
        handler=props["Handler"],
        code_dir=resource.local_path,
        layer_dirs=layer_dirs,
        timeout=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        environment={k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()},
        runtime=props.get("Runtime", "python3.13"),
        reserved_concurrency=_reserved_concurrency(resource.logical_id, props),
        label=resource.logical_id,
    )


def _reserved_concurrency(logical_id: str, props: dict) -> int | None:
    """ReservedConcurrentExecutions (SAM passes it through to AWS::Lambda::Function), None when unset."""
    value = props.get("ReservedConcurrentExecutions")
    if value is None:
        return None
    try:
        reserved = int(value)
    except (TypeError, ValueError):
        raise TemplateError(f"{logical_id}: ReservedConcurrentExecutions must be a whole number, not {value!r}") \
            from None
    if reserved < 0:
        raise TemplateError(f"{logical_id}: ReservedConcurrentExecutions must not be negative, not {reserved}")
    return reserved
