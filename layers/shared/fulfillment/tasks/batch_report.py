"""Task ReportBatch of the batch workflow: the nested executions counted by outcome."""

from collections import Counter

from fulfillment import repository
from fulfillment.models import utc_now
from fulfillment.status import Status


def report_batch(batch_id: str, results: list[dict]) -> dict:
    """Count the nested executions by outcome, store the report on the batch (status COMPLETED)."""
    counts = dict(sorted(Counter(result["outcome"] for result in results).items()))
    rows = [{"order_id": result["order_id"], "outcome": result["outcome"]} for result in results]
    now = utc_now()
    repository.complete_batch(batch_id, {"total": len(rows), "counts": counts, "results": rows,
                                         "completed_at": now})
    return {"batch_id": batch_id, "status": Status.COMPLETED, "total": len(rows), "counts": counts}
