"""Use cases of the event source consumers, one module per consumer: ``fulfillment_queue`` (FulfillOrderFunction, the
fulfillment queue), ``dead_letters`` (DlqHandlerFunction, its DLQ), ``customer_events`` (CustomerEventsFunction, the
customers table's stream)."""
