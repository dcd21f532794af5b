"""POST /customers: a new customer (its stream record starts the onboarding workflow)."""

import uuid

from fulfillment import payments, repository
from fulfillment.errors import CustomerAlreadyExistsError, InvalidRequestError
from fulfillment.models import brief, utc_now
from fulfillment.status import Status


def create_customer(body: dict) -> dict:
    """Insert an ACTIVE customer (never overwriting); its stream record starts onboarding."""
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    customer_id = body.get("customerId") or f"CUST-{uuid.uuid4().hex[:12].upper()}"
    row = {"customer_id": customer_id, "name": body.get("name"), "email": body.get("email"),
           "status": Status.ACTIVE,
           "payment_method": body.get("paymentMethod") or payments.DEFAULT_PAYMENT_METHOD,
           "created_at": utc_now()}
    for field in ("name", "email"):
        if not isinstance(row[field], str) or not row[field].strip():
            raise InvalidRequestError(f"{field} must be a non-empty string")
    if not repository.put_new_customer(row):
        raise CustomerAlreadyExistsError(f"customer {brief(customer_id)} already exists")
    return row
