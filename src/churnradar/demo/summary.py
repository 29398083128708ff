"""Counts that describe a generated company, for the CLI summary and the docs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from churnradar.demo.company import DemoCompany


@dataclass(frozen=True)
class DemoSummary:
    as_of: date
    start: date
    customers: int
    contract: int
    noncontract: int
    teams: int
    reps: int
    orders: int
    revenue: float
    subscriptions: int
    interactions: int
    tickets: int
    complaints: int
    surveys: int
    churned: int  # churned at least once, by the truth
    churned_recorded: int  # of those, recorded by the company
    won_back: int
    by_type: dict[str, int]
    by_reason: dict[str, int]


def summarize(company: DemoCompany) -> DemoSummary:
    f = company.frames
    customers, truth = f["customers"], f["demo_ground_truth"]
    ever = truth[truth["churned_at"].notna()]
    orders = f["orders"]
    completed = orders[orders["status"] == "completed"]
    return DemoSummary(
        as_of=company.as_of,
        start=company.simulator.calendar.start,
        customers=len(customers),
        contract=int((customers["business_model"] == "contract").sum()),
        noncontract=int((customers["business_model"] == "noncontract").sum()),
        teams=len(f["teams"]),
        reps=int((f["users"]["role"] == "sales").sum()),
        orders=len(orders),
        revenue=float(completed["amount"].sum()),
        subscriptions=len(f["subscriptions"]),
        interactions=len(f["interactions"]),
        tickets=len(f["tickets"]),
        complaints=int(f["tickets"]["is_complaint"].sum()),
        surveys=len(f["surveys"]),
        churned=len(ever),
        churned_recorded=int(f["churn_events"]["customer_id"].nunique()),
        won_back=int(truth["won_back_at"].notna().sum()),
        by_type=_counts(ever["churn_type"]),
        by_reason=_counts(ever["churn_reason"]),
    )


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(n) for k, n in values.value_counts().items()}
