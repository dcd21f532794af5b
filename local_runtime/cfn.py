"""CloudFormation property values as the runtime reads them, and as the AWS APIs take them (no imports: pollers and
emulators use it too)."""
from __future__ import annotations

from typing import Any


def cfn_bool(value: Any, default: bool) -> bool:
    """A CloudFormation Boolean property: true/false, or the strings "true"/"false" in any case; absent = default."""
    if value is None:
        return default
    return value is True or str(value).lower() == "true"


def api_casing(value: Any) -> Any:
    """A CloudFormation property (LoggingConfiguration: Level, Destinations, CloudWatchLogsLogGroup, LogGroupArn)
    in the Step Functions API's casing (level, destinations, cloudWatchLogsLogGroup, logGroupArn)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: api_casing(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_casing(item) for item in value]
    return value
