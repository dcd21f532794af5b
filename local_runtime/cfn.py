"""CloudFormation property values as the runtime reads them (no imports: pollers and emulators use it too)."""
from __future__ import annotations

from typing import Any


def cfn_bool(value: Any, default: bool) -> bool:
    """A CloudFormation Boolean property: true/false, or the strings "true"/"false" in any case; absent = default."""
    if value is None:
        return default
    return value is True or str(value).lower() == "true"
