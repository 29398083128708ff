"""Customer flows, churn reasons and churn losses, on tiny companies computed by hand."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from churnradar.analytics import EventTables, InactivityThreshold, Period, periods_between
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.flows import MONTH_DAYS, churn_losses, churn_rates, churn_reasons
from churnradar.domain import ChurnDefinition
from churnradar.domain.metrics import METRICS
from support.events import Row, at, company

DEFINITION = ChurnDefinition(noncontract_inactive_days=90, contract_grace_days=30)
NINETY = InactivityThreshold(90)
FLOWS = ("customers_at_start", "new_customers", "churned_customers", "won_back_customers")
SLUGS = {entry.slug for entry in METRICS}
KEYS = {"period", "period_start", "period_end", "complete", "segment"}


def _months(first: str, last: str, timezone: str = "UTC") -> list[Period]:
    return periods_between(Period.parse(first, timezone), Period.parse(last, timezone))


def _rows(table: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def _rates(
    tables: EventTables,
    as_of: str,
    periods: Sequence[Period],
    by: Sequence[Dimension] = (),
) -> list[dict[str, Any]]:
    return _rows(
        churn_rates(
            tables,
            as_of=at(as_of),
            periods=periods,
            definition=DEFINITION,
            threshold=NINETY,
            by=by,
        )
    )


def _pick(row: dict[str, Any], *columns: str) -> tuple[Any, ...]:
    return tuple(row[column] for column in columns)


def _flow_company() -> EventTables:
    """Seven customers over the first months of 2026 (UTC months, as of 2026-04-15):

    1  (A) a customer since mid-2025 who stays;
    2  (A) says he leaves on 2026-02-10 (price) and buys again on 2026-03-20;
    3  (B) new on 2026-02-05, leaves on 2026-03-03 after a service failure;
    4  (B) bought once on 2025-10-01, so churned hidden 90 days later, on 2025-12-30;
    5  (A) a contract that ended 2026-03-01 and was renewed late, within the grace, 03-20;
    6  (B) a contract that ended at the first instant of February and was never renewed;
    7  (C) new on 2026-04-02, in the period still running.
    """
    return company(
        customers=[
            {"id": 1, "first_seen": "2025-06-01", "segment": "A"},
            {"id": 2, "first_seen": "2025-06-01", "segment": "A"},
            {"id": 3, "first_seen": "2026-02-05", "segment": "B"},
            {"id": 4, "first_seen": "2025-01-01", "segment": "B"},
            {"id": 5, "business_model": "contract", "segment": "A"},
            {"id": 6, "business_model": "contract", "segment": "B"},
            {"id": 7, "first_seen": "2026-04-02", "segment": "C"},
        ],
        orders=[
            {"customer_id": 2, "ordered_at": "2026-03-20", "amount": 100},
            {"customer_id": 4, "ordered_at": "2025-10-01", "amount": 100},
        ],
        subscriptions=[
            {"customer_id": 5, "started_at": "2025-03-01", "ends_at": "2026-03-01", "mrr": 100},
            {
                "customer_id": 5,
                "started_at": "2026-03-20",
                "ends_at": "2027-03-20",
                "mrr": 100,
                "renewed_from": 1,
            },
            {"customer_id": 6, "started_at": "2025-02-01", "ends_at": "2026-02-01", "mrr": 100},
        ],
        churn_events=[
            {"customer_id": 2, "occurred_at": "2026-02-10", "type": "active", "reason": "price"},
            {
                "customer_id": 3,
                "occurred_at": "2026-03-03",
                "type": "passive",
                "reason": "service",
            },
        ],
    )


class TestChurnRates:
    def test_monthly_flows_by_hand(self) -> None:
        rows = _rates(_flow_company(), "2026-04-15", _months("2026-01", "2026-04"))

        columns = ("period", *FLOWS, "customers_at_end", "complete")
        assert [_pick(row, *columns) for row in rows] == [
            # customer 4 churned in December: away at the start of January
            ("2026-01", 4, 0, 0, 0, 4, True),
            # 6 churns at the first instant of February: a customer at its start, churned in it
            ("2026-02", 4, 1, 2, 0, 3, True),
            # 3 churns, 2 comes back; 5's late renewal within the grace is no churn
            ("2026-03", 3, 0, 1, 1, 3, True),
            ("2026-04", 3, 1, 0, 0, 4, False),
        ]

    def test_churned_by_type(self) -> None:
        rows = _rates(_flow_company(), "2026-04-15", _months("2026-02", "2026-03"))

        types = ("churned_active", "churned_passive", "churned_hidden")
        assert [_pick(row, *types) for row in rows] == [(1, 0, 1), (0, 1, 0)]

    def test_rate_and_its_change_from_the_month_before(self) -> None:
        rows = _rates(_flow_company(), "2026-04-15", _months("2026-01", "2026-04"))

        rates = [row["churn_rate"] for row in rows]
        changes = [row["churn_rate_change"] for row in rows]
        assert rates == pytest.approx([0, 2 / 4, 1 / 3, 0])
        # January's change is against December (1 churned of 5), not asked for but computed
        assert changes == pytest.approx([0 - 1 / 5, 2 / 4 - 0, 1 / 3 - 2 / 4, 0 - 1 / 3])

    def test_change_is_against_the_period_just_before_even_when_it_is_not_asked_for(
        self,
    ) -> None:
        periods = [Period.parse("2026-03", "UTC"), Period.parse("2026-01", "UTC")]

        rows = _rates(_flow_company(), "2026-04-15", periods)

        assert [row["period"] for row in rows] == ["2026-01", "2026-03"]
        assert rows[1]["churn_rate_change"] == pytest.approx(1 / 3 - 2 / 4)

    def test_customer_who_churns_and_comes_back_within_a_quarter(self) -> None:
        (row,) = _rates(_flow_company(), "2026-04-15", [Period.parse("2026-Q1", "UTC")])

        assert _pick(row, "period", *FLOWS, "customers_at_end") == ("2026-Q1", 4, 1, 3, 1, 3)
        assert row["churn_rate"] == pytest.approx(3 / 4)
        assert row["churn_rate_change"] == pytest.approx(3 / 4 - 1 / 5)

    def test_end_equals_start_plus_new_plus_won_back_minus_churned(self) -> None:
        tables = _flow_company()
        monthly = _rates(tables, "2026-04-15", _months("2025-10", "2026-05"))
        by_segment = _rates(
            tables, "2026-04-15", _months("2025-10", "2026-05"), [Dimension.SEGMENT]
        )

        for row in [*monthly, *by_segment]:
            start, new, churned, won_back = _pick(row, *FLOWS)
            assert row["customers_at_end"] == start + new + won_back - churned, row
        for before, after in itertools.pairwise(monthly):
            assert before["customers_at_end"] == after["customers_at_start"]

    def test_period_with_no_customers_at_start_has_no_rate(self) -> None:
        tables = company(
            customers=[
                {"id": 1, "first_seen": "2026-02-10"},
                {"id": 2, "first_seen": "2026-02-15"},
            ],
            churn_events=[{"customer_id": 1, "occurred_at": "2026-02-20", "reason": "price"}],
        )

        rows = _rates(tables, "2026-04-01", _months("2026-01", "2026-03"))

        columns = ("period", *FLOWS, "customers_at_end", "churn_rate", "churn_rate_change")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-01", 0, 0, 0, 0, 0, None, None),
            ("2026-02", 0, 2, 1, 0, 1, None, None),
            # a rate again, but no change: February had none
            ("2026-03", 1, 0, 0, 0, 1, 0.0, None),
        ]

    def test_breakdown_by_segment(self) -> None:
        rows = _rates(
            _flow_company(), "2026-04-15", _months("2026-01", "2026-02"), [Dimension.SEGMENT]
        )

        columns = ("period", "segment", *FLOWS, "customers_at_end", "churn_rate")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-01", "A", 3, 0, 0, 0, 3, 0.0),
            ("2026-01", "B", 1, 0, 0, 0, 1, 0.0),
            # customer 7 arrives in April: his segment has rows, with no customers yet
            ("2026-01", "C", 0, 0, 0, 0, 0, None),
            ("2026-02", "A", 3, 0, 1, 0, 2, 1 / 3),
            ("2026-02", "B", 1, 1, 1, 0, 1, 1.0),
            ("2026-02", "C", 0, 0, 0, 0, 0, None),
        ]
        # December in B: customers 4 and 6 at the start, 4 churned
        assert rows[1]["churn_rate_change"] == pytest.approx(0 - 1 / 2)

    def test_churn_recorded_before_the_customer_is_known_counts_from_then(self) -> None:
        # first seen on 02-10, but a churn was recorded on 01-20: he arrives churned
        tables = company(
            customers=[{"id": 1}, {"id": 2, "first_seen": "2026-02-10"}],
            churn_events=[{"customer_id": 2, "occurred_at": "2026-01-20", "reason": "price"}],
        )

        rows = _rates(tables, "2026-04-01", _months("2026-01", "2026-02"))

        columns = ("period", *FLOWS, "customers_at_end")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-01", 1, 0, 0, 0, 1),
            ("2026-02", 1, 1, 1, 0, 1),
        ]

    def test_counts_only_what_was_known_before_as_of(self) -> None:
        # on 2026-02-20 customer 6's contract is 19 days over: within the grace, no churn yet
        rows = _rates(_flow_company(), "2026-02-20", _months("2026-02", "2026-03"))

        columns = ("period", *FLOWS, "customers_at_end", "churned_hidden", "complete")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-02", 4, 1, 1, 0, 4, 0, False),
            # a period after as_of holds the state as of then, and nothing happens in it
            ("2026-03", 4, 0, 0, 0, 4, 0, False),
        ]

    def test_periods_are_local_calendar_periods(self) -> None:
        # 2026-01-31 20:00 UTC is already February 1st in Shanghai
        tables = company(
            customers=[{"id": 1}, {"id": 2}],
            churn_events=[{"customer_id": 1, "occurred_at": "2026-01-31 20:00"}],
        )

        utc = _rates(tables, "2026-03-01", _months("2026-01", "2026-02"))
        shanghai = _rates(tables, "2026-03-01", _months("2026-01", "2026-02", "Asia/Shanghai"))

        assert [row["churned_customers"] for row in utc] == [1, 0]
        assert [row["churned_customers"] for row in shanghai] == [0, 1]
        assert shanghai[1]["period_start"] == at("2026-01-31 16:00")

    def test_flows_hold_on_a_random_company(self) -> None:
        tables = _random_company(random.Random(20260301))
        months = _months("2024-12", "2026-03")

        rows = _rates(tables, "2026-03-15", months)
        reasons = _rows(
            churn_reasons(
                tables,
                as_of=at("2026-03-15"),
                periods=months,
                definition=DEFINITION,
                threshold=NINETY,
            )
        )

        assert sum(row["churned_customers"] for row in rows) > 10
        assert sum(row["won_back_customers"] for row in rows) > 3
        for row in rows:
            start, new, churned, won_back = _pick(row, *FLOWS)
            assert row["customers_at_end"] == start + new + won_back - churned, row
            by_type = row["churned_active"] + row["churned_passive"] + row["churned_hidden"]
            assert by_type == churned
            assert churned == sum(
                reason["churned_customers"]
                for reason in reasons
                if reason["period"] == row["period"]
            )
        for before, after in itertools.pairwise(rows):
            assert before["customers_at_end"] == after["customers_at_start"]

    def test_granularities_mix_and_each_period_counts_once(self) -> None:
        month, quarter, year = (
            Period.parse(text, "UTC") for text in ("2026-02", "2026-Q1", "2026")
        )

        rows = _rates(_flow_company(), "2026-04-15", [year, month, quarter, month])

        columns = ("period", *FLOWS, "customers_at_end", "complete")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-Q1", 4, 1, 3, 1, 3, True),
            ("2026", 4, 2, 3, 1, 4, False),
            ("2026-02", 4, 1, 2, 0, 3, True),
        ]
        # each against its own previous period: Q4 2025, 2025 (no customers before it), January
        assert [row["churn_rate_change"] for row in rows] == pytest.approx(
            [3 / 4 - 1 / 5, None, 2 / 4 - 0]
        )

    def test_a_company_without_customers_has_a_row_per_period(self) -> None:
        rows = _rates(company(), "2026-04-15", _months("2026-01", "2026-02"))

        columns = ("period", *FLOWS, "customers_at_end", "churn_rate", "churn_rate_change")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-01", 0, 0, 0, 0, 0, None, None),
            ("2026-02", 0, 0, 0, 0, 0, None, None),
        ]

    def test_metric_columns_are_registered_metrics(self) -> None:
        rows = _rates(
            _flow_company(), "2026-04-15", _months("2026-01", "2026-01"), [Dimension.SEGMENT]
        )

        assert set(rows[0]) - KEYS <= SLUGS

    def test_no_periods_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            _rates(_flow_company(), "2026-04-15", [])


class TestChurnReasons:
    def test_counts_per_period_reason_and_type(self) -> None:
        rows = _rows(
            churn_reasons(
                _flow_company(),
                as_of=at("2026-04-15"),
                periods=_months("2026-01", "2026-04"),
                definition=DEFINITION,
                threshold=NINETY,
            )
        )

        columns = ("period", "churn_reason", "churn_type", "churned_customers", "complete")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-02", "price", "active", 1, True),
            ("2026-02", "unknown", "hidden", 1, True),
            ("2026-03", "service", "passive", 1, True),
        ]

    def test_breakdown_by_segment(self) -> None:
        rows = _rows(
            churn_reasons(
                _flow_company(),
                as_of=at("2026-04-15"),
                periods=_months("2025-12", "2026-02"),
                definition=DEFINITION,
                threshold=NINETY,
                by=[Dimension.SEGMENT],
            )
        )

        columns = ("period", "segment", "churn_reason", "churn_type", "churned_customers")
        assert [_pick(row, *columns) for row in rows] == [
            ("2025-12", "B", "unknown", "hidden", 1),
            ("2026-02", "A", "price", "active", 1),
            ("2026-02", "B", "unknown", "hidden", 1),
        ]

    def test_same_reason_twice_in_a_period_counts_twice(self) -> None:
        tables = company(
            customers=[{"id": 1}, {"id": 2}],
            churn_events=[
                {"customer_id": 1, "occurred_at": "2026-03-02", "reason": "price"},
                {"customer_id": 2, "occurred_at": "2026-03-30", "reason": "price"},
            ],
        )

        rows = _rows(
            churn_reasons(
                tables,
                as_of=at("2026-04-01"),
                periods=_months("2026-03", "2026-03"),
                definition=DEFINITION,
                threshold=NINETY,
            )
        )

        assert [_pick(row, "churn_reason", "churned_customers") for row in rows] == [("price", 2)]


def _money_company() -> EventTables:
    """As of 2026-07-01, with inactivity out of the way (400 days):

    1  (retail) buys, one order refunded and one cancelled, says he leaves on 2026-03-10;
    2  (enterprise) a yearly contract of 100 renewed late within the grace at 120, then
       cancelled on 2026-03-20; one order of 50;
    3  (enterprise) a contract of 50 that ended on 2026-04-01 and was never renewed;
    4  (retail) leaves on 2026-01-05, buys again on 2026-02-01, leaves again on 2026-04-10.
    """
    return company(
        customers=[
            {"id": 1, "segment": "retail"},
            {"id": 2, "segment": "enterprise", "business_model": "contract"},
            {"id": 3, "segment": "enterprise", "business_model": "contract"},
            {"id": 4, "segment": "retail"},
        ],
        orders=[
            _order(1, "2025-01-10", 1000),
            _order(1, "2025-06-01", 200),
            _order(1, "2025-09-01", 300, status="refunded"),
            _order(1, "2025-12-01", 400),
            _order(1, "2026-01-15", 999, status="cancelled"),
            _order(2, "2025-11-01", 50),
            _order(4, "2025-12-01", 20),
            _order(4, "2026-02-01", 80),
        ],
        subscriptions=[
            {"customer_id": 2, "started_at": "2025-01-01", "ends_at": "2026-01-01", "mrr": 100},
            {
                "customer_id": 2,
                "started_at": "2026-01-20",
                "ends_at": "2027-01-20",
                "mrr": 120,
                "renewed_from": 1,
                "cancelled_at": "2026-03-20",
                "cancel_reason": "price",
                "status": "cancelled",
            },
            {"customer_id": 3, "started_at": "2025-04-01", "ends_at": "2026-04-01", "mrr": 50},
        ],
        churn_events=[
            {"customer_id": 1, "occurred_at": "2026-03-10", "reason": "price"},
            {"customer_id": 4, "occurred_at": "2026-01-05"},
            {"customer_id": 4, "occurred_at": "2026-04-10"},
        ],
    )


def _order(customer: int, day: str, amount: float, status: str = "completed") -> Row:
    return {"customer_id": customer, "ordered_at": day, "amount": amount, "status": status}


def _losses(
    tables: EventTables, periods: Sequence[Period], by: Sequence[Dimension] = ()
) -> list[dict[str, Any]]:
    return _rows(
        churn_losses(
            tables,
            as_of=at("2026-07-01"),
            periods=periods,
            definition=DEFINITION,
            threshold=InactivityThreshold(400),
            by=by,
        )
    )


# customer 2: a year of 100 (365 days), then 120 from 01-20 to the cancellation on 03-20
CLV_2 = 50 + (100 * 365 + 120 * 59) / MONTH_DAYS
CLV_3 = 50 * 365 / MONTH_DAYS


class TestChurnLosses:
    def test_per_month_by_hand(self) -> None:
        rows = _losses(_money_company(), _months("2026-01", "2026-05"))

        columns = ("period", "churned_customers", "revenue_lost", "clv_lost")
        assert [_pick(row, *columns) for row in rows] == [
            ("2026-01", 1, 20, 20),
            ("2026-02", 0, 0, 0),
            ("2026-03", 2, 600 + 1490, pytest.approx(1600 + CLV_2)),
            ("2026-04", 2, 600 + 100, pytest.approx(CLV_3 + 100)),
            ("2026-05", 0, 0, 0),
        ]

    def test_refunded_and_cancelled_orders_are_not_revenue(self) -> None:
        rows = _losses(_money_company(), _months("2026-03", "2026-03"), [Dimension.SEGMENT])

        (march,) = [row for row in rows if row["segment"] == "retail"]

        # customer 1: 200 + 400 in the twelve months before 03-10 (the 1000 is older);
        # the refunded 300 and the cancelled 999 count nowhere
        assert _pick(march, "segment", "revenue_lost", "clv_lost") == ("retail", 600, 1600)

    def test_contract_terms_in_force_count_twelve_months_of_mrr(self) -> None:
        rows = _losses(_money_company(), _months("2026-03", "2026-04"), [Dimension.SEGMENT])

        enterprise = [row for row in rows if row["segment"] == "enterprise"]
        # March: customer 2's renewed term of 120 (the first term had ended) plus his order
        # of 50; April: customer 3's lapsed term of 50, in force until the churn instant
        assert [_pick(row, "period", "revenue_lost") for row in enterprise] == [
            ("2026-03", 50 + 12 * 120),
            ("2026-04", 12 * 50),
        ]
        assert [row["clv_lost"] for row in enterprise] == pytest.approx([CLV_2, CLV_3])

    def test_each_return_and_churn_is_counted_with_what_came_before(self) -> None:
        rows = _losses(_money_company(), _months("2026-01", "2026-04"), [Dimension.SEGMENT])

        retail = [row for row in rows if row["segment"] == "retail"]
        # customer 4: 20 before the first churn; 20 + 80 before the second
        assert [_pick(row, "period", "churned_customers", "revenue_lost") for row in retail] == [
            ("2026-01", 1, 20),
            ("2026-02", 0, 0),
            ("2026-03", 1, 600),
            ("2026-04", 1, 100),
        ]

    def test_metric_columns_are_registered_metrics(self) -> None:
        (row,) = _losses(_money_company(), _months("2026-01", "2026-01"))

        assert set(row) - KEYS <= SLUGS

    def test_an_early_renewal_takes_over_its_predecessor(self) -> None:
        tables = company(
            customers=[{"id": 1, "business_model": "contract"}],
            subscriptions=[
                {"customer_id": 1, "started_at": "2025-01-01", "ends_at": "2026-01-01", "mrr": 100},
                {
                    "customer_id": 1,
                    "started_at": "2025-12-01",
                    "ends_at": "2026-12-01",
                    "mrr": 100,
                    "renewed_from": 1,
                    "cancelled_at": "2026-02-01",
                },
            ],
        )

        (row,) = _losses(tables, _months("2026-02", "2026-02"))

        # the first term ran 334 days (to the renewal), the second 62 (to the cancellation)
        assert row["revenue_lost"] == 1200
        assert row["clv_lost"] == pytest.approx(100 * (334 + 62) / MONTH_DAYS)


def _random_company(rng: random.Random) -> EventTables:
    """Forty customers with random orders (some refunded), statements and contracts."""
    start = at("2025-01-01")

    def day(low: int, high: int) -> str:
        return f"{start + timedelta(days=rng.randint(low, high)):%Y-%m-%d %H:%M}"

    customers: list[Row] = []
    orders: list[Row] = []
    terms: list[Row] = []
    events: list[Row] = []
    for number in range(1, 41):
        contract = number % 4 == 0
        customers.append(
            {
                "id": number,
                "first_seen": day(-60, 400),
                "business_model": "contract" if contract else "noncontract",
            }
        )
        if contract:
            begin = rng.randint(-30, 300)
            for _ in range(rng.randint(1, 3)):
                length = rng.choice([90, 180])
                terms.append(
                    {
                        "customer_id": number,
                        "started_at": day(begin, begin),
                        "ends_at": day(begin + length, begin + length),
                        "mrr": 100,
                    }
                )
                begin += length + rng.choice([0, 10, 60])
        else:
            for _ in range(rng.randint(1, 8)):
                status = rng.choice(["completed", "completed", "completed", "refunded"])
                orders.append(_order(number, day(-30, 430), 10, status))
        if rng.random() < 0.3:
            reason = rng.choice(["price", "service", "competition", "unknown"])
            events.append({"customer_id": number, "occurred_at": day(0, 430), "reason": reason})
    return company(customers=customers, orders=orders, subscriptions=terms, churn_events=events)
