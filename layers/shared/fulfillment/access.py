"""Who may call which route.

API Gateway admits every API key of the stage's usage plan on every route (``Auth: ApiKeyRequired``) and tells the
function which key it admitted (``requestContext.identity.apiKeyId``). The reviewers' key is the one named by
REVIEWER_API_KEY_ID; every other admitted key is a client's. Deciding an approval needs the reviewers' key; placing
orders, batches, quotes and customers needs a client's; reads need any admitted key.
"""

from fulfillment import config
from fulfillment.errors import AccessDeniedError

CLIENT = "client"
REVIEWER = "reviewer"


def caller_role(api_key_id: str | None) -> str | None:
    """REVIEWER, CLIENT, or None when the request carries no key id (API Gateway admitted no key)."""
    if not api_key_id:
        return None
    return REVIEWER if api_key_id == config.require(config.REVIEWER_API_KEY_ID) else CLIENT


def require(api_key_id: str | None, role: str, action: str) -> None:
    """Raise AccessDeniedError unless the caller's key has ``role``."""
    if caller_role(api_key_id) != role:
        raise AccessDeniedError(f"{action} needs the {role}s' API key")
