"""Use cases of the event source consumers, one module per consumer: ``fulfilment`` (FulfillOrderFunction, the
fulfillment queue), ``dead_letters`` (DlqHandlerFunction, its DLQ), ``customer_events`` (CustomerEventsFunction, the
customers table's stream)."""
