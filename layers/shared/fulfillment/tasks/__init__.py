"""Use cases of the workflows' Lambda tasks, one module per task: ``validation`` (ValidateOrder), ``storage``
(StoreOrder), ``approval`` (AwaitApproval), ``payment`` (ChargePayment), ``reservation`` (ReserveInventory),
``batch_report`` (ReportBatch), ``pricing`` (PriceQuote). The compensation tasks (RefundPayment, ReleaseInventory)
live in ``fulfillment/compensation.py``: the DLQ handler runs them too."""
