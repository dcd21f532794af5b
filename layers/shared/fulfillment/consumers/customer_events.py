"""CustomerEventsFunction (DynamoDB stream consumer of the customers table): a new customer as an event on the bus,
which starts the onboarding workflow."""

from fulfillment import repository
from fulfillment.models import plain


def publish_customer_created(customer: dict) -> str:
    """A new customers-table row (stream NEW_IMAGE) as a CustomerCreated event on the bus."""
    customer = plain(customer)
    detail = {key: customer[key] for key in ("customer_id", "name", "email", "status") if key in customer}
    return repository.put_event("CustomerCreated", detail)
