"""make chaos's accounting (benchmarks/chaos.py): the prediction formula, and a reconciliation that passes on a
consistent snapshot and names each broken invariant of a fabricated inconsistent one."""
import copy
import json
from decimal import Decimal

import pytest

from benchmarks.chaos import (
    DEFAULT_FAULTS,
    ChaosConfig,
    Snapshot,
    failure_reason,
    injected_faults,
    order_body,
    predict,
    reconcile,
    sample_data,
)

# predicts exactly the consistent snapshot's FAILED share: half the orders fail their charge, none is dead-lettered
CONFIG = ChaosConfig(orders=4, faults="error:0.5:ChargePaymentFunction", success_rate=1.0)


def items(*lines):
    return [{"sku": sku, "quantity": Decimal(quantity), "unit_price_cents": Decimal(price)}
            for sku, quantity, price in lines]


def consistent() -> Snapshot:
    """Two FULFILLED orders, one FAILED after its charge and reservation (refunded, released), one FAILED before."""
    return Snapshot(
        accepted=["A", "B", "C", "D"],
        orders={
            "A": {"order_id": "A", "status": "FULFILLED", "total_cents": Decimal(8999), "payment_status": "CHARGED",
                  "reservation_status": "RESERVED", "items": items(("SKU-001", 1, 8999))},
            "B": {"order_id": "B", "status": "FULFILLED", "total_cents": Decimal(2598), "payment_status": "CHARGED",
                  "reservation_status": "RESERVED", "items": items(("SKU-002", 2, 1299))},
            "C": {"order_id": "C", "status": "FAILED", "total_cents": Decimal(1299), "payment_status": "REFUNDED",
                  "reservation_status": "RELEASED", "items": items(("SKU-002", 1, 1299))},
            "D": {"order_id": "D", "status": "FAILED"},  # failed before it was stored
        },
        payments={
            "A": {"order_id": "A", "status": "CHARGED", "amount_cents": Decimal(8999)},
            "B": {"order_id": "B", "status": "CHARGED", "amount_cents": Decimal(2598)},
            "C": {"order_id": "C", "status": "REFUNDED", "amount_cents": Decimal(1299)},
        },
        failed_orders={"C": {"source": "FULFILLMENT"}, "D": {"source": "WORKFLOW", "error": "FaultInjectedError"}},
        initial_stock={"SKU-001": 100, "SKU-002": 100, "SKU-003": 100},
        stock={"SKU-001": 99, "SKU-002": 98, "SKU-003": 100},
        executions=["A", "B", "C", "D"],
        http={202: 4},
    )


def check(snapshot, config=CONFIG):
    return reconcile(snapshot, predict(config), config)


def test_consistent_snapshot_holds_every_invariant():
    report = check(consistent())
    assert report.violations == []
    assert (report.accepted, report.fulfilled, report.failed) == (4, 2, 2)
    assert (report.charged_cents, report.refunded_cents, report.fulfilled_cents, report.money_net_cents) == (
        12896, 1299, 11597, 0)
    assert report.failed_by_reason == {"dead-lettered (FulfillmentFailedError)": 1, "FaultInjectedError": 1}
    assert (report.stock_taken, report.stock_released, report.stock_fulfilled) == (
        {"SKU-001": 1, "SKU-002": 3}, {"SKU-002": 1}, {"SKU-001": 1, "SKU-002": 2})


def broken(change) -> list[str]:
    snapshot = copy.deepcopy(consistent())
    change(snapshot)
    return check(snapshot).violations


def test_a_failed_order_still_charged_breaks_the_money():
    def late_charge(s):
        s.payments["C"]["status"] = "CHARGED"
        s.orders["C"]["payment_status"] = "CHARGED"

    assert broken(late_charge) == ["money: charged 12896 - refunded 0 - fulfilled 11597 = 1299 cents, not 0",
                                   "money: FAILED C still holds CHARGED 1299 cents"]


def test_a_fulfilled_order_refunded_breaks_the_money():
    def refunded_but_shipped(s):
        s.payments["A"]["status"] = "REFUNDED"
        s.orders["A"]["payment_status"] = "REFUNDED"

    assert broken(refunded_but_shipped) == [
        "money: charged 12896 - refunded 10298 - fulfilled 11597 = -8999 cents, not 0",
        "money: FULFILLED A (total 8999) holds REFUNDED 8999"]


def test_a_charge_of_the_wrong_amount_and_a_stray_payment_break_the_money():
    def wrong(s):
        s.payments["B"]["amount_cents"] = Decimal(2599)
        s.payments["Z"] = {"order_id": "Z", "status": "REFUNDED", "amount_cents": Decimal(5)}

    assert broken(wrong) == ["money: charged 12902 - refunded 1304 - fulfilled 11597 = 1 cents, not 0",
                             "money: payment of Z, which is no accepted order",
                             "money: FULFILLED B (total 2598) holds CHARGED 2599"]


def test_a_failed_order_still_holding_stock_breaks_the_stock():
    def not_released(s):
        s.orders["C"]["reservation_status"] = "RESERVED"
        s.stock["SKU-002"] = 97

    assert broken(not_released) == ["stock: FAILED C still holds its reservation",
                                    "stock: SKU-002 taken 3 - released 0 - fulfilled 2 = 1, not 0",
                                    "stock: SKU-002 fell by 3 in the inventory table, 2 units were fulfilled"]


def test_an_inventory_that_disagrees_with_the_orders_breaks_the_stock():
    assert broken(lambda s: s.stock.update({"SKU-003": 90})) == [
        "stock: SKU-003 fell by 10 in the inventory table, 0 units were fulfilled"]


def test_lost_stuck_and_duplicate_orders_are_named():
    def mess(s):
        del s.orders["D"]
        s.orders["B"]["status"] = "PROCESSING"
        s.executions.append("E")

    violations = broken(mess)
    assert violations[:3] == ["lost: 1 accepted orders have no row (e.g. ['D'])",
                              "stuck: 1 orders not terminal (e.g. [('B', 'PROCESSING')])",
                              "duplicates: 1 executions name no accepted order (e.g. ['E'])"]


def test_server_errors_and_unaccepted_posts_are_named():
    def answers(s):
        s.http[502] = 3

    assert broken(answers) == ["5xx: 3 answers"]
    snapshot = consistent()
    snapshot.http[502] = 3
    assert check(snapshot, ChaosConfig(orders=4, faults=CONFIG.faults, success_rate=1.0,
                                       kill_api=True)).violations == []
    snapshot.not_accepted = 1
    assert check(snapshot).violations[-1] == "not accepted: 1 POSTs never got a 202"


def test_a_failed_share_far_from_the_prediction_is_named():
    snapshot = consistent()
    snapshot.accepted = [f"X{i}" for i in range(10_000)]
    snapshot.executions = list(snapshot.accepted)
    fulfilled = {"status": "FULFILLED", "total_cents": 0, "payment_status": "CHARGED", "reservation_status": "RESERVED"}
    snapshot.orders = {i: {"order_id": i, **(fulfilled if n % 10 else {"status": "FAILED"})}
                       for n, i in enumerate(snapshot.accepted)}
    snapshot.payments = {i: {"status": "CHARGED", "amount_cents": 0} for i, row in snapshot.orders.items()
                         if row["status"] == "FULFILLED"}
    snapshot.failed_orders, snapshot.stock = {}, dict(snapshot.initial_stock)
    report = check(snapshot, ChaosConfig(orders=10_000, faults="error:0.01:ChargePaymentFunction"))
    assert (report.failed_share, round(report.predicted_share, 5)) == (0.10, 0.03673)  # 0.01 + 0.99 x 0.3^3
    assert report.violations == ["FAILED share 10.00% is 6.33% away from the predicted 3.67% (tolerance 2.00%)"]


def test_prediction_formula():
    one_step = predict(ChaosConfig(faults="error:0.01:ChargePaymentFunction"))
    assert one_step.p_workflow == pytest.approx(0.01)
    assert one_step.p_dlq == pytest.approx(0.3 ** 3)
    assert one_step.share == pytest.approx(0.01 + 0.99 * 0.027)
    default = predict(ChaosConfig(faults=DEFAULT_FAULTS))
    assert default.p_workflow == pytest.approx(1 - (0.99 * 0.998) ** 4)
    assert default.p_receive == pytest.approx(0.3 * (0.95 + 0.05 * 0.3))
    assert default.share == pytest.approx(default.p_workflow + (1 - default.p_workflow) * default.p_receive ** 3)
    assert predict(ChaosConfig(faults="duplicate:1")).p_dlq == pytest.approx(0.09 ** 3)


def test_failure_reasons_and_injected_fault_counts():
    assert failure_reason({}, None) == "(no failed_orders row)"
    assert failure_reason({}, {"source": "VALIDATION", "reason": "CustomerInactiveError: x"}) == (
        "rejected: CustomerInactiveError")
    log = ("[fault] error injected into dofs-ChargePaymentFunction (request r-1)\n"
           "[dofs-ChargePaymentFunction] [fault] not a fault line\n"
           "[fault] timeout injected into dofs-StoreOrderFunction (request r-2); its worker is killed\n"
           "[fault] duplicate delivery of a batch to arn:aws:lambda:us-east-1:1:function:dofs-FulfillOrderFunction\n"
           "[fault] error injected into dofs-ChargePaymentFunction (request r-3)\n")
    assert injected_faults(log) == {"error": {"ChargePaymentFunction": 2}, "timeout": {"StoreOrderFunction": 1},
                                    "duplicate": {"FulfillOrderFunction": 1}}


def test_orders_stay_below_the_approval_threshold():
    import random

    rng = random.Random(1)
    for _ in range(2000):
        body = order_body(rng)
        total = sum({"SKU-001": 8999, "SKU-002": 1299, "SKU-003": 32999}[i["sku"]] * i["quantity"]
                    for i in body["items"])
        assert total < 100_000 and len({i["sku"] for i in body["items"]}) == len(body["items"])


def test_the_run_starts_with_the_sample_customers_and_stock_and_no_order(tmp_path):
    path = tmp_path / "sample_data.json"
    initial = sample_data(path)
    written = json.loads(path.read_text())
    assert sorted(written) == ["customers", "inventory"]  # the sample order's charge and reservation left out
    assert {c["customer_id"] for c in written["customers"]} >= {"CUST-001", "CUST-002"}
    assert {sku: initial[sku] for sku in ("SKU-001", "SKU-002", "SKU-003")} == dict.fromkeys(
        ("SKU-001", "SKU-002", "SKU-003"), 10_000_000)
