"""DOFS's local Step Functions: an Amazon States Language engine (JSONPath), its task integrations and the API.

Modules: clock (time), parser (definition -> Program), states (state types), paths (JSONPath I/O processing),
intrinsics, choice, retry, history, execution (running a program), callbacks (task tokens), integrations (task
resources), engine (executions in threads), service (the AWS JSON API).
"""
from .clock import Clock, RealClock, ScaledClock, VirtualClock
from .engine import Engine
from .integrations import Integrations
from .service import StepFunctionsService

__all__ = ["Clock", "RealClock", "ScaledClock", "VirtualClock", "Engine", "Integrations", "StepFunctionsService"]
