"""DOFS's local Step Functions: an Amazon States Language engine, its task integrations and the API.

Layers, each importing only the ones below it (docs/engine.md "Module map"; checked by .importlinter):
service (the API) > engine, test_state > execution > definitions (parser, diagnostics, validation, language,
mock_validation) > states (states, jsonata_states, distributed_map) > integrations (one component per Task
resource) > the execution's world (environment, callbacks, mocks, history) > expressions (templates, intrinsics,
variables, choice, retry, jsonata_expressions) > paths > foundations (payloads, timefmt, failures, clock, scheduler).
"""
from .clock import Clock, RealClock, ScaledClock, VirtualClock
from .engine import Engine
from .integrations import Integrations
from .service import StepFunctionsService

__all__ = ["Clock", "RealClock", "ScaledClock", "VirtualClock", "Engine", "Integrations", "StepFunctionsService"]
