"""A function as the runtime runs it: its configuration (:class:`FunctionSpec`), read from the resolved template."""
from __future__ import annotations

from dataclasses import dataclass, field


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
