"""Repurchase, revenue retention and customer value, on tiny companies computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from churnradar.analytics import Period
from churnradar.analytics.commerce import (
    MONTH_DAYS,
    clv_summary,
    customer_value,
    repurchase,
    revenue_retention,
    term_spans,
)
from churnradar.analytics.dimensions import Dimension
from churnradar.domain.metrics import METRICS
from support.events import Row, at, company

MARCH = Period.parse("2026-03", "UTC")
APRIL = Period.parse("2026-04", "UTC")
SLUGS = {entry.slug for entry in METRICS}
FRAME = {"period", "period_start", "period_end", "complete", "segment"}
REPURCHASE = ("previous_buyers", "repurchasers", "repurchase_rate", "repurchase_churn_rate")
RETENTION = (
    "mrr_at_start",
    "mrr_churned",
    "mrr_contraction",
    "mrr_expansion",
    "revenue_churn_rate",
    "grr",
    "nrr",
)


def _rows(table: Any, *columns: str) -> list[dict[str, Any]]:
    """The rows of an expression, keeping the period label, ``by`` and ``columns``."""
    keep = {"period", "complete", "segment", *columns}
    return [
        {key: value for key, value in row.items() if key in keep}
        for row in table.to_pyarrow().to_pylist()
    ]


def _order(customer: int, day: str, amount: float = 100, status: str = "completed") -> Row:
    return {"customer_id": customer, "ordered_at": day, "amount": amount, "status": status}


def _term(customer: int, start: str, end: str | None, mrr: float, **more: Any) -> Row:
    return {"customer_id": customer, "started_at": start, "ends_at": end, "mrr": mrr, **more}


class TestRepurchase:
    def test_previous_buyers_who_bought_again_in_the_period(self) -> None:
        tables = company(
            customers=[{"id": n} for n in range(1, 6)],
            orders=[
                _order(1, "2025-06-01"),
                _order(1, "2026-03-10"),  # previous buyer, bought again
                _order(2, "2026-01-15"),  # previous buyer, did not
                _order(3, "2026-03-05"),  # first purchase in March: not a previous buyer
                _order(4, "2025-02-28"),  # 366 days before March: outside the lookback
                _order(4, "2026-03-20"),
                _order(5, "2025-03-01"),  # exactly 365 days before: inside
                _order(5, "2026-03-01"),  # at the first instant of March: inside
            ],
        )

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH])

        assert _rows(result, *REPURCHASE) == [
            {
                "period": "2026-03",
                "complete": True,
                "previous_buyers": 3,
                "repurchasers": 2,
                "repurchase_rate": pytest.approx(2 / 3),
                "repurchase_churn_rate": pytest.approx(1 / 3),
            }
        ]

    def test_refunded_and_cancelled_orders_are_not_purchases(self) -> None:
        tables = company(
            customers=[{"id": 1}, {"id": 2}, {"id": 3}],
            orders=[
                _order(1, "2026-01-10"),
                _order(1, "2026-03-05", status="refunded"),  # came back, then refunded
                _order(2, "2026-02-01", status="cancelled"),
                _order(2, "2026-03-10"),  # a first purchase, not a repurchase
                _order(3, "2026-02-01", status="refunded"),
            ],
        )

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH])

        assert _rows(result, *REPURCHASE) == [
            {
                "period": "2026-03",
                "complete": True,
                "previous_buyers": 1,
                "repurchasers": 0,
                "repurchase_rate": 0.0,
                "repurchase_churn_rate": 1.0,
            }
        ]

    def test_a_period_without_previous_buyers_has_no_rates(self) -> None:
        tables = company(customers=[{"id": 1}], orders=[_order(1, "2026-03-10")])

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH])

        assert _rows(result, *REPURCHASE) == [
            {
                "period": "2026-03",
                "complete": True,
                "previous_buyers": 0,
                "repurchasers": 0,
                "repurchase_rate": None,
                "repurchase_churn_rate": None,
            }
        ]

    def test_lookback_days_bound_who_is_a_previous_buyer(self) -> None:
        tables = company(
            customers=[{"id": 1}, {"id": 2}],
            orders=[_order(1, "2026-02-10"), _order(2, "2026-01-15"), _order(2, "2026-03-02")],
        )

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH], lookback_days=30)

        # only customer 1 bought in the 30 days before March 1st, and he did not come back
        assert _rows(result, "previous_buyers", "repurchasers") == [
            {"period": "2026-03", "complete": True, "previous_buyers": 1, "repurchasers": 0}
        ]

    def test_a_period_running_past_as_of_counts_purchases_before_it(self) -> None:
        tables = company(
            customers=[{"id": 1}, {"id": 2}],
            orders=[
                _order(1, "2026-02-01"),
                _order(1, "2026-03-10"),
                _order(1, "2026-04-05"),
                _order(2, "2026-02-20"),
                _order(2, "2026-04-20"),  # after as_of: not known yet
            ],
        )

        result = repurchase(tables, as_of=at("2026-04-15"), periods=[MARCH, APRIL])

        assert _rows(result, "previous_buyers", "repurchasers") == [
            {"period": "2026-03", "complete": True, "previous_buyers": 2, "repurchasers": 1},
            {"period": "2026-04", "complete": False, "previous_buyers": 2, "repurchasers": 1},
        ]

    def test_periods_are_local_calendar_periods(self) -> None:
        tables = company(
            customers=[{"id": 1}],
            # 2026-03-01 01:00 in Shanghai: March there, February in UTC
            orders=[_order(1, "2026-01-10"), _order(1, "2026-02-28 17:00")],
        )
        march = Period.parse("2026-03", "Asia/Shanghai")

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[march]).to_pyarrow()

        assert result["period_start"].to_pylist() == [at("2026-02-28 16:00")]
        assert result["period_end"].to_pylist() == [at("2026-03-31 16:00")]
        assert result["repurchasers"].to_pylist() == [1]

    def test_one_label_in_two_time_zones_is_two_periods(self) -> None:
        tables = company(
            customers=[{"id": 1}],
            orders=[_order(1, "2026-01-10"), _order(1, "2026-02-28 17:00")],
        )
        march_in_shanghai = Period.parse("2026-03", "Asia/Shanghai")

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH, march_in_shanghai])

        # both are labelled 2026-03; each is measured on its own, not merged by label
        assert _rows(result, "previous_buyers", "repurchasers") == [
            {"period": "2026-03", "complete": True, "previous_buyers": 1, "repurchasers": 1},
            {"period": "2026-03", "complete": True, "previous_buyers": 1, "repurchasers": 0},
        ]

    def test_every_group_of_known_customers_has_a_row(self) -> None:
        tables = company(
            customers=[
                {"id": 1, "segment": "大客户"},
                {"id": 2, "segment": "大客户"},
                {"id": 3, "segment": "小微客户"},
                {"id": 4},
            ],
            orders=[
                _order(1, "2026-02-01"),
                _order(1, "2026-03-03"),
                _order(2, "2026-02-01"),
                _order(4, "2026-02-01"),
                _order(4, "2026-03-03"),
            ],
        )

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH], by=[Dimension.SEGMENT])

        assert _rows(result, "previous_buyers", "repurchase_rate") == [
            {"period": "2026-03", "complete": True, "segment": "大客户",
             "previous_buyers": 2, "repurchase_rate": 0.5},
            {"period": "2026-03", "complete": True, "segment": "小微客户",
             "previous_buyers": 0, "repurchase_rate": None},
            {"period": "2026-03", "complete": True, "segment": None,
             "previous_buyers": 1, "repurchase_rate": 1.0},
        ]  # fmt: skip

    def test_columns_are_registered_metrics(self) -> None:
        tables = company(customers=[{"id": 1, "segment": "大客户"}])

        result = repurchase(tables, as_of=at("2026-04-01"), periods=[MARCH], by=[Dimension.SEGMENT])

        assert set(result.columns) - FRAME == set(REPURCHASE) <= SLUGS

    def test_each_period_once_in_order_and_on_its_own(self) -> None:
        tables = company(
            customers=[{"id": 1}], orders=[_order(1, "2025-12-10"), _order(1, "2026-03-10")]
        )
        quarter, january = Period.parse("2026-Q1", "UTC"), Period.parse("2026-01", "UTC")

        result = repurchase(
            tables, as_of=at("2026-05-01"), periods=[APRIL, quarter, january, APRIL]
        )

        # the quarter and January start together; only the quarter holds the March purchase
        assert _rows(result, "previous_buyers", "repurchasers") == [
            {"period": "2026-01", "complete": True, "previous_buyers": 1, "repurchasers": 0},
            {"period": "2026-Q1", "complete": True, "previous_buyers": 1, "repurchasers": 1},
            {"period": "2026-04", "complete": True, "previous_buyers": 1, "repurchasers": 0},
        ]

    def test_refuses_no_periods_a_lookback_of_nothing_and_a_repeated_dimension(self) -> None:
        tables = company(customers=[{"id": 1}])
        as_of = at("2026-04-01")

        with pytest.raises(ValueError, match="no periods"):
            repurchase(tables, as_of=as_of, periods=[])
        with pytest.raises(ValueError, match="lookback_days"):
            repurchase(tables, as_of=as_of, periods=[MARCH], lookback_days=0)
        with pytest.raises(ValueError, match="repeated"):
            repurchase(tables, as_of=as_of, periods=[MARCH], by=[Dimension.TIER, Dimension.TIER])


CONTRACTS = [{"id": n, "business_model": "contract"} for n in range(1, 8)]


class TestRevenueRetention:
    def test_churn_contraction_and_expansion_of_a_month(self) -> None:
        tables = company(
            customers=CONTRACTS,
            subscriptions=[
                _term(1, "2026-01-01", "2027-01-01", 100, id=1),  # steady
                _term(2, "2025-03-15", "2026-03-15", 200, id=2),  # upgraded at renewal
                _term(2, "2026-03-15", "2027-03-15", 260, id=3, renewed_from=2),
                _term(3, "2025-03-20", "2026-03-20", 300, id=4),  # downgraded at renewal
                _term(3, "2026-03-20", "2027-03-20", 240, id=5, renewed_from=4),
                _term(4, "2025-06-01", "2026-06-01", 150, id=6, cancelled_at="2026-03-10"),
                _term(5, "2025-03-25", "2026-03-25", 50, id=7),  # lapsed, not renewed
                _term(6, "2026-03-05", "2027-03-05", 500, id=8),  # new: in no figure
            ],
        )

        result = revenue_retention(tables, as_of=at("2026-05-01"), periods=[MARCH])

        # start 100 + 200 + 300 + 150 + 50 = 800; churned 150 + 50; contraction 60;
        # expansion 60
        assert _rows(result, *RETENTION) == [
            {
                "period": "2026-03",
                "complete": True,
                "mrr_at_start": 800.0,
                "mrr_churned": 200.0,
                "mrr_contraction": 60.0,
                "mrr_expansion": 60.0,
                "revenue_churn_rate": pytest.approx(260 / 800),
                "grr": pytest.approx(540 / 800),
                "nrr": pytest.approx(600 / 800),
            }
        ]

    def test_a_renewal_on_the_instant_the_old_term_ends_is_expansion(self) -> None:
        tables = company(
            customers=CONTRACTS[:1],
            subscriptions=[
                _term(1, "2025-04-01", "2026-04-01", 100, id=1),
                _term(1, "2026-04-01", "2027-04-01", 120, id=2, renewed_from=1),
            ],
        )

        result = revenue_retention(tables, as_of=at("2026-05-01"), periods=[MARCH, APRIL])

        # at 2026-04-01 00:00 only the new term is in force: 120, neither 0 nor 220
        assert _rows(result, "mrr_at_start", "mrr_churned", "mrr_expansion", "nrr") == [
            {"period": "2026-03", "complete": True, "mrr_at_start": 100.0,
             "mrr_churned": 0.0, "mrr_expansion": 20.0, "nrr": pytest.approx(1.2)},
            {"period": "2026-04", "complete": True, "mrr_at_start": 120.0,
             "mrr_churned": 0.0, "mrr_expansion": 0.0, "nrr": 1.0},
        ]  # fmt: skip

    def test_an_early_renewal_replaces_its_term_instead_of_adding_to_it(self) -> None:
        tables = company(
            customers=CONTRACTS[:1],
            subscriptions=[
                _term(1, "2025-04-01", "2026-04-01", 100, id=1),
                _term(1, "2026-03-10", "2027-03-10", 150, id=2, renewed_from=1),
            ],
        )

        result = revenue_retention(tables, as_of=at("2026-05-01"), periods=[MARCH, APRIL])

        assert _rows(result, "mrr_at_start", "mrr_expansion") == [
            {"period": "2026-03", "complete": True, "mrr_at_start": 100.0, "mrr_expansion": 50.0},
            {"period": "2026-04", "complete": True, "mrr_at_start": 150.0, "mrr_expansion": 0.0},
        ]

    def test_losing_one_of_two_terms_is_contraction(self) -> None:
        tables = company(
            customers=CONTRACTS[:1],
            subscriptions=[
                _term(1, "2026-01-01", "2027-01-01", 100),
                _term(1, "2026-01-01", "2027-01-01", 50, cancelled_at="2026-03-15"),
            ],
        )

        result = revenue_retention(tables, as_of=at("2026-05-01"), periods=[MARCH])

        assert _rows(result, "mrr_at_start", "mrr_churned", "mrr_contraction", "grr") == [
            {"period": "2026-03", "complete": True, "mrr_at_start": 150.0,
             "mrr_churned": 0.0, "mrr_contraction": 50.0, "grr": pytest.approx(100 / 150)},
        ]  # fmt: skip

    def test_a_period_running_past_as_of_is_measured_to_as_of(self) -> None:
        tables = company(
            customers=CONTRACTS[:3],
            subscriptions=[
                _term(1, "2025-03-10", "2026-03-10", 100),  # ended before as_of: churned
                _term(2, "2025-06-01", "2026-06-01", 200, cancelled_at="2026-03-20"),  # unknown
                _term(3, "2025-03-25", "2026-03-25", 300),  # ends after as_of: still in force
            ],
        )

        result = revenue_retention(tables, as_of=at("2026-03-15"), periods=[MARCH])

        assert _rows(result, "mrr_at_start", "mrr_churned", "revenue_churn_rate") == [
            {"period": "2026-03", "complete": False, "mrr_at_start": 600.0,
             "mrr_churned": 100.0, "revenue_churn_rate": pytest.approx(100 / 600)},
        ]  # fmt: skip

    def test_no_mrr_at_the_start_has_no_rates(self) -> None:
        tables = company(customers=CONTRACTS[:1], subscriptions=[_term(1, "2026-03-05", None, 100)])

        result = revenue_retention(tables, as_of=at("2026-04-01"), periods=[MARCH])

        assert _rows(result, *RETENTION) == [
            {"period": "2026-03", "complete": True, "mrr_at_start": 0.0, "mrr_churned": 0.0,
             "mrr_contraction": 0.0, "mrr_expansion": 0.0,
             "revenue_churn_rate": None, "grr": None, "nrr": None},
        ]  # fmt: skip

    def test_columns_are_registered_metrics(self) -> None:
        result = revenue_retention(company(), as_of=at("2026-04-01"), periods=[MARCH])

        assert set(result.columns) - FRAME == set(RETENTION) <= SLUGS
        # without customers, still a row for the period
        assert _rows(result, "mrr_at_start", "nrr") == [
            {"period": "2026-03", "complete": True, "mrr_at_start": 0.0, "nrr": None}
        ]

    def test_breaks_down_by_segment(self) -> None:
        tables = company(
            customers=[
                {"id": 1, "business_model": "contract", "segment": "大客户"},
                {"id": 2, "business_model": "contract", "segment": "小微客户"},
            ],
            subscriptions=[
                _term(1, "2026-01-01", "2026-03-20", 400),
                _term(2, "2026-01-01", None, 100),
            ],
        )

        result = revenue_retention(
            tables, as_of=at("2026-04-01"), periods=[MARCH], by=[Dimension.SEGMENT]
        )

        assert _rows(result, "mrr_at_start", "grr") == [
            {"period": "2026-03", "complete": True, "segment": "大客户",
             "mrr_at_start": 400.0, "grr": 0.0},
            {"period": "2026-03", "complete": True, "segment": "小微客户",
             "mrr_at_start": 100.0, "grr": 1.0},
        ]  # fmt: skip


class TestTermSpans:
    def test_a_term_stops_at_its_end_cancellation_or_renewal_whichever_is_first(self) -> None:
        tables = company(
            customers=CONTRACTS[:1],
            subscriptions=[
                _term(1, "2025-01-01", "2025-07-01", 10, id=1),
                _term(1, "2025-07-01", "2026-07-01", 20, id=2, renewed_from=1),
                _term(1, "2025-09-01", None, 30, id=3, cancelled_at="2026-02-01"),
                _term(1, "2025-10-01", None, 40, id=4, cancelled_at="2026-03-20"),  # later
                _term(1, "2025-11-01", "2026-11-01", 50, id=5),
                _term(1, "2026-02-15", "2027-02-15", 60, id=6, renewed_from=5),  # early
                _term(1, "2026-04-01", None, 70, id=7),  # starts after as_of
            ],
        )

        spans = term_spans(tables, at("2026-03-01")).order_by("started_at").to_pyarrow()

        assert spans["mrr"].to_pylist() == [10, 20, 30, 40, 50, 60]
        assert spans["stopped_at"].to_pylist() == [
            at("2025-07-01"),
            at("2026-07-01"),
            at("2026-02-01"),
            None,
            at("2026-02-15"),
            at("2027-02-15"),
        ]


class TestCustomerValue:
    def test_orders_and_contract_months_before_as_of(self) -> None:
        tables = company(
            customers=[
                {"id": 1},
                {"id": 2, "business_model": "contract"},
                {"id": 3, "business_model": "contract"},
                {"id": 4},
                {"id": 5, "first_seen": "2026-03-05"},  # not known yet
            ],
            orders=[
                _order(1, "2025-06-01", 100),
                _order(1, "2025-09-01", 300),
                _order(1, "2025-12-01", 500, status="refunded"),
                _order(1, "2026-03-02", 700),  # after as_of
                _order(3, "2025-02-01", 200),
            ],
            subscriptions=[
                # ongoing: 59 days to 2026-03-01
                _term(2, "2026-01-01", "2027-01-01", 100),
                # cancelled after 90 days
                _term(3, "2025-01-01", "2025-07-01", 60, cancelled_at="2025-04-01"),
                # ran its whole 92 days, then was renewed: 59 days so far
                _term(3, "2025-10-01", "2026-01-01", 30, id=10),
                _term(3, "2026-01-01", "2026-04-01", 30, renewed_from=10),
            ],
        )

        result = customer_value(tables, as_of=at("2026-03-01"))

        rows = sorted(result.to_pyarrow().to_pylist(), key=lambda row: row["customer_id"])
        assert rows == [
            {"customer_id": 1, "purchases": 2, "revenue": 400.0,
             "average_order_value": 200.0, "contract_revenue": 0.0, "clv": 400.0},
            {"customer_id": 2, "purchases": 0, "revenue": 0.0, "average_order_value": None,
             "contract_revenue": pytest.approx(100 * 59 / MONTH_DAYS),
             "clv": pytest.approx(100 * 59 / MONTH_DAYS)},
            {"customer_id": 3, "purchases": 1, "revenue": 200.0, "average_order_value": 200.0,
             "contract_revenue": pytest.approx((60 * 90 + 30 * 92 + 30 * 59) / MONTH_DAYS),
             "clv": pytest.approx(200 + (60 * 90 + 30 * 92 + 30 * 59) / MONTH_DAYS)},
            {"customer_id": 4, "purchases": 0, "revenue": 0.0,
             "average_order_value": None, "contract_revenue": 0.0, "clv": 0.0},
        ]  # fmt: skip

    def test_columns_are_registered_metrics(self) -> None:
        result = customer_value(company(), as_of=at("2026-03-01"))

        assert set(result.columns) - {"customer_id"} <= SLUGS

    def test_a_year_of_contract_is_twelve_average_months(self) -> None:
        tables = company(
            customers=CONTRACTS[:1],
            subscriptions=[_term(1, "2025-01-01", "2026-01-01", 100)],
        )

        result = customer_value(tables, as_of=at("2026-03-01")).to_pyarrow()

        # 365 days of 365.25 / 12 days each: 11.99 months
        assert result["contract_revenue"].to_pylist() == [pytest.approx(1199.18, abs=0.01)]


class TestClvSummary:
    def test_columns_are_registered_metrics(self) -> None:
        result = clv_summary(company(), as_of=at("2026-03-01"), by=[Dimension.SEGMENT])

        assert set(result.columns) - FRAME <= SLUGS
        assert result.to_pyarrow().num_rows == 0

    def test_mean_median_and_total_per_group(self) -> None:
        tables = company(
            customers=[
                {"id": 1, "segment": "大客户"},
                {"id": 2, "segment": "大客户"},
                {"id": 3, "segment": "大客户"},
                {"id": 4, "segment": "小微客户"},
            ],
            orders=[
                _order(1, "2025-06-01", 400),
                _order(2, "2025-06-01", 100),
                _order(2, "2025-07-01", 100),
                _order(4, "2025-06-01", 50),
            ],
        )

        by_segment = clv_summary(tables, as_of=at("2026-03-01"), by=[Dimension.SEGMENT])
        overall = clv_summary(tables, as_of=at("2026-03-01"))

        assert by_segment.to_pyarrow().to_pylist() == [
            {"segment": "大客户", "customers": 3, "clv_mean": 200.0, "clv_median": 200.0,
             "clv_total": 600.0},
            {"segment": "小微客户", "customers": 1, "clv_mean": 50.0, "clv_median": 50.0,
             "clv_total": 50.0},
        ]  # fmt: skip
        # CLVs 400, 200, 0 and 50: an even count takes the mean of the middle two
        assert overall.to_pyarrow().to_pylist() == [
            {"customers": 4, "clv_mean": 162.5, "clv_median": 125.0, "clv_total": 650.0}
        ]
