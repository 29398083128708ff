"""Cohort retention, on a tiny company computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from churnradar.analytics import EventTables, InactivityThreshold, Period
from churnradar.analytics.cohorts import cohort_retention
from churnradar.domain import ChurnDefinition
from churnradar.domain.metrics import METRICS
from support.events import at, company

DEFINITION = ChurnDefinition(noncontract_inactive_days=90, contract_grace_days=30)
NINETY = InactivityThreshold(90)
AS_OF = "2026-05-10"
COLUMNS = ("cohort", "months_since", "cohort_size", "retained")


def _cohort_company() -> EventTables:
    """As of 2026-05-10:

    1  buys once on 2026-01-10, so churned hidden 90 days later, on 2026-04-10;
    2  buys on 2026-01-20, says he leaves on 2026-02-05, buys again on 2026-03-10;
    3  a contract from 2026-01-31 23:00 UTC (already February in Shanghai);
    4  a refunded order in January, his first purchase on 2026-02-15;
    5  known since 2025 but never bought: in no cohort;
    6  first buys on 2026-05-03, in a month not over yet;
    7  buys on 2026-03-05 and says he leaves on 2026-03-25, within his first month.
    """
    return company(
        customers=[
            {"id": 1},
            {"id": 2},
            {"id": 3, "business_model": "contract"},
            {"id": 4},
            {"id": 5},
            {"id": 6},
            {"id": 7},
        ],
        orders=[
            {"customer_id": 1, "ordered_at": "2026-01-10", "amount": 10},
            {"customer_id": 2, "ordered_at": "2026-01-20", "amount": 10},
            {"customer_id": 2, "ordered_at": "2026-03-10", "amount": 10},
            {"customer_id": 4, "ordered_at": "2026-01-05", "amount": 10, "status": "refunded"},
            {"customer_id": 4, "ordered_at": "2026-02-15", "amount": 10},
            {"customer_id": 6, "ordered_at": "2026-05-03", "amount": 10},
            {"customer_id": 7, "ordered_at": "2026-03-05", "amount": 10},
        ],
        subscriptions=[
            {
                "customer_id": 3,
                "started_at": "2026-01-31 23:00",
                "ends_at": "2027-01-31",
                "mrr": 100,
            }
        ],
        churn_events=[
            {"customer_id": 2, "occurred_at": "2026-02-05", "reason": "price"},
            {"customer_id": 7, "occurred_at": "2026-03-25", "reason": "price"},
        ],
    )


def _retention(
    tables: EventTables, *, first: Period | None = None, timezone: str | None = None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        cohort_retention(
            tables,
            as_of=at(AS_OF),
            definition=DEFINITION,
            threshold=NINETY,
            first=first,
            timezone=timezone,
        )
        .to_pyarrow()
        .to_pylist()
    )
    return rows


def _pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[column] for column in columns) for row in rows]


class TestCohortRetention:
    def test_by_hand_in_utc_months(self) -> None:
        rows = _retention(_cohort_company(), timezone="UTC")

        assert _pick(rows, *COLUMNS) == [
            # 2 is away at the end of February and back by the end of March;
            # 1 churned on 04-10
            ("2026-01", 0, 3, 3),
            ("2026-01", 1, 3, 2),
            ("2026-01", 2, 3, 3),
            ("2026-01", 3, 3, 2),
            # the refunded January order is no purchase: 4 starts in February
            ("2026-02", 0, 1, 1),
            ("2026-02", 1, 1, 1),
            ("2026-02", 2, 1, 1),
            # 7 left within his first month
            ("2026-03", 0, 1, 0),
            ("2026-03", 1, 1, 0),
        ]
        assert [row["retention_rate"] for row in rows] == pytest.approx(
            [1, 2 / 3, 1, 2 / 3, 1, 1, 1, 0, 0]
        )
        assert rows[0]["cohort_start"] == at("2026-01-01")

    def test_months_are_local_calendar_months(self) -> None:
        rows = _retention(_cohort_company())  # Asia/Shanghai

        assert _pick(rows, *COLUMNS)[:7] == [
            ("2026-01", 0, 2, 2),
            ("2026-01", 1, 2, 1),
            ("2026-01", 2, 2, 2),
            ("2026-01", 3, 2, 1),
            # 3's contract began on February 1st, 07:00 in Shanghai
            ("2026-02", 0, 2, 2),
            ("2026-02", 1, 2, 2),
            ("2026-02", 2, 2, 2),
        ]
        assert rows[0]["cohort_start"] == at("2025-12-31 16:00")

    def test_from_the_first_cohort_asked_for(self) -> None:
        rows = _retention(_cohort_company(), first=Period.parse("2026-02", "UTC"))

        assert _pick(rows, *COLUMNS) == [
            ("2026-02", 0, 1, 1),
            ("2026-02", 1, 1, 1),
            ("2026-02", 2, 1, 1),
            ("2026-03", 0, 1, 0),
            ("2026-03", 1, 1, 0),
        ]

    def test_metric_columns_are_registered_metrics(self) -> None:
        rows = _retention(_cohort_company())

        slugs = {entry.slug for entry in METRICS}
        assert set(rows[0]) - {"cohort", "cohort_start", "months_since"} <= slugs

    def test_no_purchases_no_cohorts(self) -> None:
        assert _retention(company(customers=[{"id": 1}])) == []

    def test_first_must_be_a_month_in_the_time_zone_asked_for(self) -> None:
        with pytest.raises(ValueError, match="not a month"):
            _retention(_cohort_company(), first=Period.parse("2026-Q1", "UTC"))
        with pytest.raises(ValueError, match="Asia/Shanghai"):
            _retention(
                _cohort_company(),
                first=Period.parse("2026-02", "Asia/Shanghai"),
                timezone="UTC",
            )
