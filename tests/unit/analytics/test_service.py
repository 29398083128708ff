"""Satisfaction and service levels, on tiny companies computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from churnradar.analytics import InactivityThreshold, Period
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.service import satisfaction, service_levels
from churnradar.domain import ChurnDefinition
from churnradar.domain.metrics import METRICS
from support.events import Row, at, company

FEBRUARY = Period.parse("2026-02", "UTC")
MARCH = Period.parse("2026-03", "UTC")
DEFINITION = ChurnDefinition(noncontract_inactive_days=90)
NINETY = InactivityThreshold(90)
SLUGS = {entry.slug for entry in METRICS}
FRAME = {"period", "period_start", "period_end", "complete", "segment"}
SATISFACTION = ("nps_responses", "nps", "csat_responses", "csat", "csat_satisfied_rate")


def _rows(table: Any, *columns: str) -> list[dict[str, Any]]:
    """The rows of an expression, keeping the period label, ``by`` and ``columns``."""
    keep = {"period", "complete", "segment", *columns}
    return [
        {key: value for key, value in row.items() if key in keep}
        for row in table.to_pyarrow().to_pylist()
    ]


def _answer(customer: int, day: str, score: int | None, kind: str = "nps") -> Row:
    return {"customer_id": customer, "answered_at": day, "score": score, "kind": kind}


def _ticket(
    customer: int,
    opened: str,
    responded: str | None = None,
    resolved: str | None = None,
    *,
    complaint: bool = True,
) -> Row:
    return {
        "customer_id": customer,
        "opened_at": opened,
        "first_response_at": responded,
        "resolved_at": resolved,
        "is_complaint": complaint,
    }


class TestSatisfaction:
    def test_nps_and_csat_of_the_answers_in_the_period(self) -> None:
        tables = company(
            customers=[{"id": n} for n in range(1, 5)],
            surveys=[
                _answer(1, "2026-03-02", 10),
                _answer(1, "2026-03-20", 9),  # the same customer again: counts again
                _answer(2, "2026-03-03", 9),
                _answer(3, "2026-03-04", 7),  # passive
                _answer(4, "2026-03-05", 3),  # detractor
                _answer(4, "2026-03-06", None),  # no score: not a response
                _answer(4, "2026-02-27", 0),  # February
                _answer(1, "2026-03-02", 5, "csat"),
                _answer(2, "2026-03-03", 4, "csat"),
                _answer(3, "2026-03-04", 2, "csat"),
            ],
        )

        result = satisfaction(tables, as_of=at("2026-04-01"), periods=[MARCH])

        # promoters 3, detractors 1 of 5; CSAT (5 + 4 + 2) / 3, 2 of 3 satisfied
        assert _rows(result, *SATISFACTION) == [
            {
                "period": "2026-03",
                "complete": True,
                "nps_responses": 5,
                "nps": pytest.approx(40.0),
                "csat_responses": 3,
                "csat": pytest.approx(11 / 3),
                "csat_satisfied_rate": pytest.approx(2 / 3),
            }
        ]

    def test_columns_are_registered_metrics(self) -> None:
        result = satisfaction(company(), as_of=at("2026-04-01"), periods=[MARCH])

        assert set(result.columns) - FRAME == set(SATISFACTION) <= SLUGS

    def test_the_edges_of_promoters_and_detractors(self) -> None:
        tables = company(
            customers=[{"id": 1}],
            surveys=[_answer(1, "2026-03-02", score) for score in (0, 6, 7, 8, 9, 10)]
            + [_answer(1, "2026-03-02", score, "csat") for score in (1, 3, 4)],
        )

        result = satisfaction(tables, as_of=at("2026-04-01"), periods=[MARCH])

        assert _rows(result, *SATISFACTION) == [
            {"period": "2026-03", "complete": True, "nps_responses": 6, "nps": 0.0,
             "csat_responses": 3, "csat": pytest.approx(8 / 3),
             "csat_satisfied_rate": pytest.approx(1 / 3)},
        ]  # fmt: skip

    def test_an_answer_after_as_of_is_not_known(self) -> None:
        tables = company(
            customers=[{"id": 1}, {"id": 2}],
            surveys=[
                _answer(1, "2026-03-02", 10),
                _answer(2, "2026-03-20", 0),  # after as_of
                _answer(2, "2026-03-21", 1, "csat"),  # after as_of
            ],
        )

        result = satisfaction(tables, as_of=at("2026-03-15"), periods=[MARCH])

        assert _rows(result, *SATISFACTION) == [
            {"period": "2026-03", "complete": False, "nps_responses": 1, "nps": 100.0,
             "csat_responses": 0, "csat": None, "csat_satisfied_rate": None},
        ]  # fmt: skip

    def test_a_period_without_answers_has_no_scores(self) -> None:
        tables = company(customers=[{"id": 1}], surveys=[_answer(1, "2026-03-02", 10)])

        result = satisfaction(tables, as_of=at("2026-04-01"), periods=[FEBRUARY, MARCH])

        assert _rows(result, "nps_responses", "nps") == [
            {"period": "2026-02", "complete": True, "nps_responses": 0, "nps": None},
            {"period": "2026-03", "complete": True, "nps_responses": 1, "nps": 100.0},
        ]

    def test_breaks_down_by_segment(self) -> None:
        tables = company(
            customers=[{"id": 1, "segment": "大客户"}, {"id": 2, "segment": "小微客户"}],
            surveys=[
                _answer(1, "2026-03-02", 10),
                _answer(1, "2026-03-03", 4),
                _answer(2, "2026-03-02", 8),
            ],
        )

        result = satisfaction(
            tables, as_of=at("2026-04-01"), periods=[MARCH], by=[Dimension.SEGMENT]
        )

        assert _rows(result, "nps_responses", "nps") == [
            {"period": "2026-03", "complete": True, "segment": "大客户",
             "nps_responses": 2, "nps": 0.0},
            {"period": "2026-03", "complete": True, "segment": "小微客户",
             "nps_responses": 1, "nps": 0.0},
        ]  # fmt: skip


SERVICE = (
    "customers_at_start",
    "complaints",
    "complaining_customers",
    "complaint_rate",
    "tickets",
    "mean_first_response_hours",
    "unanswered_tickets",
    "mean_resolution_hours",
    "unresolved_tickets",
)


class TestServiceLevels:
    def test_complaints_and_handling_times_of_a_month(self) -> None:
        tables = company(
            customers=[
                {"id": 1},
                {"id": 2},
                {"id": 3},  # churned before March
                {"id": 4, "first_seen": "2026-03-05"},  # new in March
                {"id": 5},  # churned, won back before March
                {"id": 6},  # churns in March
                {"id": 7},  # silent for more than 90 days: churned before March
            ],
            churn_events=[
                {"customer_id": 3, "occurred_at": "2026-02-10"},
                {"customer_id": 5, "occurred_at": "2026-01-10"},
                {"customer_id": 6, "occurred_at": "2026-03-15"},
            ],
            orders=[
                {"customer_id": 5, "ordered_at": "2026-02-20", "amount": 100},
                {"customer_id": 7, "ordered_at": "2025-10-01", "amount": 100},
            ],
            tickets=[
                _ticket(1, "2026-03-02", "2026-03-02 04:00", "2026-03-04"),  # 4 h, 48 h
                _ticket(1, "2026-03-10", "2026-03-10 10:00", "2026-04-12"),  # resolved later
                _ticket(2, "2026-03-05", complaint=False),  # never answered
                _ticket(3, "2026-03-06", "2026-03-06 02:00", "2026-03-07"),  # 2 h, 24 h
                _ticket(4, "2026-03-07", "2026-04-15"),  # answered after as_of
                _ticket(6, "2026-03-12", "2026-03-12 08:00", "2026-03-13"),  # 8 h, 24 h
                _ticket(7, "2026-02-20", "2026-02-20 01:00"),  # February
                _ticket(2, "2026-04-02", complaint=False),  # April
            ],
        )

        result = service_levels(
            tables,
            as_of=at("2026-04-10"),
            periods=[MARCH],
            definition=DEFINITION,
            threshold=NINETY,
        )

        # active at start: 1, 2, 5, 6; of them 1 and 6 complained
        assert _rows(result, *SERVICE) == [
            {
                "period": "2026-03",
                "complete": True,
                "customers_at_start": 4,
                "complaints": 5,
                "complaining_customers": 2,
                "complaint_rate": 0.5,
                "tickets": 6,
                "mean_first_response_hours": pytest.approx((4 + 10 + 2 + 8) / 4),
                "unanswered_tickets": 2,
                "mean_resolution_hours": pytest.approx((48 + 24 + 24) / 3),
                "unresolved_tickets": 3,
            }
        ]

    def test_columns_are_registered_metrics(self) -> None:
        result = service_levels(
            company(),
            as_of=at("2026-04-01"),
            periods=[MARCH],
            definition=DEFINITION,
            threshold=NINETY,
        )

        assert set(result.columns) - FRAME == set(SERVICE) <= SLUGS

    def test_an_unanswered_ticket_is_left_out_of_the_mean_and_counted(self) -> None:
        tables = company(
            customers=[{"id": 1}],
            tickets=[
                _ticket(1, "2026-03-02", "2026-03-02 03:00", "2026-03-02 06:00"),
                _ticket(1, "2026-03-03"),
                _ticket(1, "2026-03-04", "2026-03-20", "2026-03-21"),  # after as_of
            ],
        )

        result = service_levels(
            tables,
            as_of=at("2026-03-15"),
            periods=[MARCH],
            definition=DEFINITION,
            threshold=NINETY,
        )

        assert _rows(result, *SERVICE) == [
            {"period": "2026-03", "complete": False, "customers_at_start": 1,
             "complaints": 3, "complaining_customers": 1, "complaint_rate": 1.0, "tickets": 3,
             "mean_first_response_hours": 3.0, "unanswered_tickets": 2,
             "mean_resolution_hours": 6.0, "unresolved_tickets": 2},
        ]  # fmt: skip

    @pytest.mark.parametrize(
        "customers", [[{"id": 1, "first_seen": "2026-03-05"}], []], ids=["new", "none"]
    )
    def test_a_period_without_tickets_or_customers(self, customers: list[Row]) -> None:
        result = service_levels(
            company(customers=customers),
            as_of=at("2026-04-01"),
            periods=[FEBRUARY, MARCH],
            definition=DEFINITION,
            threshold=NINETY,
        )

        assert _rows(result, *SERVICE) == [
            {"period": period, "complete": True, "customers_at_start": 0, "complaints": 0,
             "complaining_customers": 0, "complaint_rate": None, "tickets": 0,
             "mean_first_response_hours": None, "unanswered_tickets": 0,
             "mean_resolution_hours": None, "unresolved_tickets": 0}
            for period in ("2026-02", "2026-03")
        ]  # fmt: skip

    def test_breaks_down_by_segment(self) -> None:
        tables = company(
            customers=[
                {"id": 1, "segment": "大客户"},
                {"id": 2, "segment": "大客户"},
                {"id": 3, "segment": "小微客户"},
            ],
            tickets=[
                _ticket(1, "2026-03-02", "2026-03-02 02:00"),
                _ticket(3, "2026-03-02", "2026-03-02 06:00", complaint=False),
            ],
        )

        result = service_levels(
            tables,
            as_of=at("2026-04-01"),
            periods=[MARCH],
            definition=DEFINITION,
            threshold=NINETY,
            by=[Dimension.SEGMENT],
        )

        columns = ("customers_at_start", "complaint_rate", "mean_first_response_hours")
        assert _rows(result, *columns) == [
            {"period": "2026-03", "complete": True, "segment": "大客户",
             "customers_at_start": 2, "complaint_rate": 0.5, "mean_first_response_hours": 2.0},
            {"period": "2026-03", "complete": True, "segment": "小微客户",
             "customers_at_start": 1, "complaint_rate": 0.0, "mean_first_response_hours": 6.0},
        ]  # fmt: skip
