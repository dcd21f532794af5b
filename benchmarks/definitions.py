"""The benchmark state machines: the same definitions and inputs are given to both engines.

Task work is not part of the engine comparison: in the order-like machine Pass states stand in for the tasks (a
Pass with ``Parameters``/``Result``/``ResultPath`` shapes data the way the real Task states do), so both engines
run exactly the same states and neither pays for a mocked AWS service.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BenchMachine:
    key: str
    title: str
    definition: dict
    input: Any
    notes: str = ""
    tags: tuple = field(default_factory=tuple)


def order_like() -> BenchMachine:
    """9 states: validate, Choice on the total, store, a Parallel of two side effects, succeed (or reject)."""
    definition = {
        "Comment": "Order-like workflow; Pass states stand in for the Lambda, DynamoDB and SQS tasks.",
        "StartAt": "ValidateOrder",
        "States": {
            "ValidateOrder": {
                "Type": "Pass",
                "Parameters": {
                    "order_id.$": "$.order.order_id",
                    "customer_id.$": "$.order.customer_id",
                    "items.$": "$.order.items",
                    "total_cents": 2599,
                    "received_at.$": "$.order.received_at",
                },
                "ResultPath": "$.order",
                "Next": "CheckTotal",
            },
            "CheckTotal": {
                "Type": "Choice",
                "Choices": [
                    {"And": [{"Variable": "$.order.total_cents", "NumericGreaterThan": 0},
                             {"Variable": "$.order.customer_id", "StringMatches": "CUST-*"}],
                     "Next": "StoreOrder"},
                ],
                "Default": "RejectOrder",
            },
            "StoreOrder": {
                "Type": "Pass",
                "Result": {"status": "PENDING", "created_at": "2024-01-01T00:00:00Z"},
                "ResultPath": "$.stored",
                "Next": "SideEffects",
            },
            "SideEffects": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "EnqueueFulfillment", "States": {
                        "EnqueueFulfillment": {
                            "Type": "Pass",
                            "Parameters": {"message_id": "m-1", "order_id.$": "$.order.order_id"},
                            "End": True}}},
                    {"StartAt": "RecordAudit", "States": {
                        "RecordAudit": {
                            "Type": "Pass",
                            "Parameters": {"line.$": "States.Format('order {} for {}', $.order.order_id, "
                                                     "$.order.customer_id)"},
                            "End": True}}},
                ],
                "ResultSelector": {"effects.$": "$", "count": 2},
                "ResultPath": "$.enqueued",
                "Next": "OrderAccepted",
            },
            "OrderAccepted": {"Type": "Pass", "Parameters": {"order_id.$": "$.order.order_id",
                                                           "status.$": "$.stored.status",
                                                           "effects.$": "$.enqueued.effects"},
                              "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "RejectOrder": {"Type": "Pass", "Result": "rejected", "ResultPath": "$.reason", "Next": "Rejected"},
            "Rejected": {"Type": "Fail", "Error": "OrderRejected", "Cause": "total or customer invalid"},
        },
    }
    data = {"order": {"order_id": "ORD-1", "customer_id": "CUST-001", "received_at": "2024-01-01T00:00:00Z",
                      "items": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}]}}
    return BenchMachine("order", "order-like (9 states, Choice, Parallel)", definition, data,
                        notes="Pass states stand in for tasks on both engines")


def pass_chain(length: int = 200) -> BenchMachine:
    states = {f"P{i:03d}": {"Type": "Pass", "Next": f"P{i + 1:03d}"} for i in range(length - 1)}
    states[f"P{length - 1:03d}"] = {"Type": "Pass", "End": True}
    return BenchMachine("pass_chain", f"Pass chain ({length} states)", {"StartAt": "P000", "States": states},
                        {"n": 1, "tag": "chain"})


def map_items(count: int = 1000, concurrency: int = 10) -> BenchMachine:
    definition = {
        "StartAt": "EachItem",
        "States": {
            "EachItem": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": concurrency,
                "ItemProcessor": {"StartAt": "Touch", "States": {
                    "Touch": {"Type": "Pass", "Parameters": {"id.$": "$.id", "done": True}, "End": True}}},
                "ResultPath": "$.results",
                "End": True,
            },
        },
    }
    return BenchMachine("map", f"Map ({count} items, MaxConcurrency {concurrency})", definition,
                        {"items": [{"id": i} for i in range(count)]})


def parallel_branches(count: int = 10) -> BenchMachine:
    branches = [{"StartAt": f"B{i}", "States": {
        f"B{i}": {"Type": "Pass", "Parameters": {"branch": i, "in.$": "$.n"}, "End": True}}} for i in range(count)]
    definition = {"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "Branches": branches, "End": True}}}
    return BenchMachine("parallel", f"Parallel ({count} branches)", definition, {"n": 7})


def all_machines(map_count: int = 1000, chain_length: int = 200) -> list[BenchMachine]:
    return [order_like(), pass_chain(chain_length), map_items(map_count), parallel_branches()]
