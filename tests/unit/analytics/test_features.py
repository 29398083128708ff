"""The feature table, feature by feature, on tiny companies computed by hand.

Every feature is measured as of ``AS_OF`` (2026-03-05 14:00 UTC). Its windows start at:
30 days 2026-02-03 14:00, 90 days 2025-12-05 14:00, 120 days 2025-11-05 14:00,
180 days 2025-09-06 14:00, 365 days 2025-03-05 14:00, 485 days (the 365 before the 120)
2024-11-05 14:00. An event at a window start counts, one at ``AS_OF`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from churnradar.analytics.features import feature_table
from churnradar.demo import vocabulary
from churnradar.domain.features import COMPETITOR_KEYWORDS, FEATURE_CODES
from support.events import Row, at, company

AS_OF = at("2026-03-05 14:00")
ONE = [{"id": 1}]

# What a customer without a single event has: counts, flags and sums are 0, the rest null.
ZERO_WITHOUT_EVENTS = (
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "revenue_30d",
    "revenue_90d",
    "revenue_180d",
    "revenue_365d",
    "orders_total",
    "revenue_total",
    "follow_ups_90d",
    "interactions_30d",
    "interactions_prior_90d",
    "digital_activity_30d",
    "inbound_90d",
    "inbound_change_90d",
    "tickets_90d",
    "complaints_90d",
    "complaints_365d",
    "open_complaints",
    "key_contact_changed_90d",
    "owner_changed_90d",
    "competitor_mentions_90d",
    "has_contract",
    "renewals",
    "current_mrr",
)
NULL_WITHOUT_EVENTS = (
    "days_since_last_order",
    "last_order_amount",
    "avg_order_amount_365d",
    "last_order_amount_ratio",
    "usual_purchase_interval_days",
    "purchase_cycle_ratio",
    "price_change_ratio",
    "days_since_last_follow_up",
    "usual_follow_up_interval_days",
    "days_since_last_inbound",
    "activity_ratio",
    "digital_activity_ratio",
    "latest_complaint_wait_hours",
    "mean_first_response_hours_365d",
    "mean_resolution_hours_365d",
    "latest_nps",
    "nps_change",
    "latest_csat",
    "csat_change",
    "days_to_contract_end",
)


def _table(
    as_of: datetime = AS_OF,
    *,
    keywords: Sequence[str] = COMPETITOR_KEYWORDS,
    **rows: list[Row],
) -> dict[int, dict[str, Any]]:
    """The feature table of the company of ``rows``: features by customer id."""
    table = feature_table(company(**rows), as_of, competitor_keywords=keywords)
    records = table.to_pyarrow().to_pylist()
    return {record.pop("customer_id"): record for record in records}


def _features(keywords: Sequence[str] = COMPETITOR_KEYWORDS, **rows: list[Row]) -> dict[str, Any]:
    """The features of customer 1, the only customer unless ``customers`` says otherwise."""
    return _table(AS_OF, keywords=keywords, **{"customers": ONE, **rows})[1]


def _pick(features: dict[str, Any], *codes: str) -> dict[str, Any]:
    return {code: features[code] for code in codes}


def _by_customer(table: dict[int, dict[str, Any]], code: str) -> dict[int, Any]:
    return {customer: features[code] for customer, features in sorted(table.items())}


def _order(
    day: str, amount: float, status: str = "completed", customer: int = 1, **more: Any
) -> Row:
    return {
        "customer_id": customer,
        "ordered_at": day,
        "amount": amount,
        "status": status,
        **more,
    }


def _bought(day: str, line: str | None, amount: float, quantity: int, **more: Any) -> Row:
    """A purchase of ``quantity`` units of ``line`` for ``amount`` in all."""
    return _order(day, amount, product_line=line, quantity=quantity, **more)


def _touch(day: str, direction: str = "outbound", channel: str = "phone", **more: Any) -> Row:
    return {
        "customer_id": more.pop("customer_id", 1),
        "occurred_at": day,
        "direction": direction,
        "channel": channel,
        **more,
    }


def _ticket(opened: str, complaint: bool = False, **more: Any) -> Row:
    return {"customer_id": 1, "opened_at": opened, "is_complaint": complaint, **more}


def _survey(day: str, score: int, kind: str = "nps", **more: Any) -> Row:
    return {"customer_id": 1, "answered_at": day, "score": score, "kind": kind, **more}


def _term(customer: int, start: str, end: str | None, mrr: float, **more: Any) -> Row:
    return {"customer_id": customer, "started_at": start, "ends_at": end, "mrr": mrr, **more}


class TestFeatureTable:
    def test_columns_are_customer_id_and_the_catalogue_in_order(self) -> None:
        table = feature_table(company(customers=ONE), AS_OF).to_pyarrow()

        assert table.column_names == ["customer_id", *FEATURE_CODES]

    def test_as_of_must_be_aware(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            feature_table(company(customers=ONE), datetime(2026, 3, 5, 14))

    def test_only_customers_known_before_as_of(self) -> None:
        table = _table(
            customers=[
                {"id": 1},  # first seen 2025-01-01
                {"id": 2, "first_seen": "2026-03-06"},
                {"id": 3, "first_seen": "2026-03-05 14:00"},
                {"id": 4, "first_seen": None},
                {"id": 5, "first_seen": None},
                {"id": 6, "first_seen": None},
                {"id": 7, "first_seen": None},
                {"id": 8, "first_seen": None},
                {"id": 9, "first_seen": "2026-04-01"},
            ],
            orders=[
                _order("2026-01-01", 10, customer=5),
                _order("2026-01-01", 10, "refunded", customer=6),
                _order("2026-03-05 14:00", 10, customer=8),
                _order("2026-01-01", 10, customer=9),  # first seen later, but bought before
            ],
            subscriptions=[_term(7, "2026-02-01", "2027-02-01", 100)],
        )

        assert sorted(table) == [1, 5, 7, 9]

    def test_a_customer_without_events_has_zero_counts_and_null_measures(self) -> None:
        features = _features()

        assert set(ZERO_WITHOUT_EVENTS) | set(NULL_WITHOUT_EVENTS) | {"tenure_days"} == set(
            FEATURE_CODES
        )
        assert _pick(features, *ZERO_WITHOUT_EVENTS) == dict.fromkeys(ZERO_WITHOUT_EVENTS, 0)
        assert _pick(features, *NULL_WITHOUT_EVENTS) == dict.fromkeys(NULL_WITHOUT_EVENTS)
        assert features["tenure_days"] == pytest.approx(428 + 14 / 24)

    def test_customers_do_not_share_events(self) -> None:
        table = _table(
            customers=[{"id": 1}, {"id": 2}],
            orders=[_order("2026-03-01", 100, customer=1), _order("2026-02-01", 30, customer=2)],
        )

        assert _by_customer(table, "revenue_total") == {1: 100.0, 2: 30.0}
        assert _by_customer(table, "orders_30d") == {1: 1, 2: 0}


class TestPurchasing:
    def test_windows_count_from_their_start_up_to_but_not_including_as_of(self) -> None:
        features = _features(
            orders=[
                _order("2026-03-05 14:00", 1000),  # at as_of: not yet
                _order("2026-02-03 14:00", 1),  # the 30-day start
                _order("2026-02-03 13:59", 2),
                _order("2025-12-05 14:00", 4),  # the 90-day start
                _order("2025-12-05 13:59", 8),
                _order("2025-09-06 14:00", 16),  # the 180-day start
                _order("2025-09-06 13:59", 32),
                _order("2025-03-05 14:00", 64),  # the 365-day start
                _order("2025-03-05 13:59", 128),
            ]
        )

        assert _pick(features, "orders_30d", "orders_90d", "orders_180d", "orders_365d") == {
            "orders_30d": 1,
            "orders_90d": 3,
            "orders_180d": 5,
            "orders_365d": 7,
        }
        assert _pick(features, "revenue_30d", "revenue_90d", "revenue_180d", "revenue_365d") == {
            "revenue_30d": 1.0,
            "revenue_90d": 7.0,
            "revenue_180d": 31.0,
            "revenue_365d": 127.0,
        }
        assert features["orders_total"] == 8
        assert features["revenue_total"] == 255.0
        assert features["last_order_amount"] == 1.0

    def test_cancelled_and_refunded_orders_are_not_purchases(self) -> None:
        features = _features(
            orders=[
                _order("2026-03-01", 100),
                _order("2026-02-20", 20, "pending"),
                _order("2026-03-03", 300, "refunded"),
                _order("2026-03-04", 400, "cancelled"),
            ]
        )

        assert _pick(features, "orders_total", "revenue_total", "orders_30d", "revenue_30d") == {
            "orders_total": 2,
            "revenue_total": 120.0,
            "orders_30d": 2,
            "revenue_30d": 120.0,
        }
        assert features["last_order_amount"] == 100.0
        assert features["days_since_last_order"] == pytest.approx(4 + 14 / 24)

    def test_latest_order_and_amounts(self) -> None:
        features = _features(
            orders=[
                _order("2025-01-10", 500),  # before the 365 days
                _order("2025-06-01", 100),
                _order("2025-12-01", 200),
                _order("2026-02-28 02:00", 60),
            ]
        )

        assert features["days_since_last_order"] == pytest.approx(5.5)
        assert features["last_order_amount"] == 60.0
        assert features["avg_order_amount_365d"] == pytest.approx(120.0)
        # 60 / mean(500, 100, 200)
        assert features["last_order_amount_ratio"] == pytest.approx(0.225)

    def test_one_purchase_has_no_ratio_and_no_intervals(self) -> None:
        features = _features(orders=[_order("2026-02-05", 80)])

        assert features["last_order_amount"] == 80.0
        assert features["avg_order_amount_365d"] == 80.0
        assert _pick(
            features,
            "last_order_amount_ratio",
            "usual_purchase_interval_days",
            "purchase_cycle_ratio",
        ) == {
            "last_order_amount_ratio": None,
            "usual_purchase_interval_days": None,
            "purchase_cycle_ratio": None,
        }

    def test_purchase_intervals_skip_refunds(self) -> None:
        features = _features(
            orders=[
                _order("2025-12-01", 10),
                _order("2025-12-11", 10),  # 10 days
                _order("2026-01-01", 10, "refunded"),
                _order("2026-01-20", 10),  # 40 days
                _order("2026-02-05", 10),  # 16 days
                _order("2026-02-09", 10),  # 4 days
                _order("2026-02-09 18:00", 10),  # 0.75 days
                _order("2026-03-05 14:00", 10),  # at as_of: not yet
            ]
        )

        # 70.75 days from 12-01 to 02-09 18:00 over 5 gaps = 14.15;
        # 24 days 14 hours since 2026-02-09, less 18 hours
        assert features["usual_purchase_interval_days"] == pytest.approx(70.75 / 5)
        assert features["days_since_last_order"] == pytest.approx(24 - 4 / 24)
        assert features["purchase_cycle_ratio"] == pytest.approx((24 - 4 / 24) / (70.75 / 5))

    def test_purchases_at_the_same_instant_are_ordered_by_id(self) -> None:
        features = _features(
            orders=[
                {"id": 1, **_order("2026-01-01", 100)},
                {"id": 3, **_order("2026-02-01", 70)},
                {"id": 2, **_order("2026-02-01", 50)},
            ]
        )

        # the latest is order 3, the larger id at the same instant
        assert features["last_order_amount"] == 70.0
        # 31 days from the first to the latest purchase, over two gaps
        assert features["usual_purchase_interval_days"] == pytest.approx(15.5)
        assert features["last_order_amount_ratio"] == pytest.approx(70 / 75)

    def test_price_change_ratio_compares_mean_unit_prices_of_a_line(self) -> None:
        features = _features(
            orders=[
                # the 365 days before the 120: unit prices 100, 120 and 110
                _bought("2024-11-05 14:00", "耗材", 110, 1),  # their start
                _bought("2025-01-10", "耗材", 1000, 10),
                _bought("2025-06-01", "耗材", 600, 5),
                _bought("2024-11-05 13:59", "耗材", 1, 1),  # before them
                # the last 120 days: unit prices 132 and 132
                _bought("2025-11-05 14:00", "耗材", 264, 2),  # their start
                _bought("2026-01-10", "耗材", 1320, 10),
                _bought("2026-02-01", "耗材", 9000, 10, status="refunded"),
                _bought("2026-02-02", "耗材", 500, 0),  # no units: no unit price
                _bought("2026-03-05 14:00", "耗材", 9000, 1),  # at as_of
            ]
        )

        # the mean of the unit prices, not the total amount over the total quantity
        assert features["price_change_ratio"] == pytest.approx(132 / 110)

    def test_price_change_ratio_is_the_highest_over_lines_bought_in_both_windows(
        self,
    ) -> None:
        features = _features(
            orders=[
                # 工业设备: 8000 before, 7200 now
                _bought("2025-04-01", "工业设备", 8000, 1),
                _bought("2026-01-05", "工业设备", 14400, 2),
                # 耗材: 100 before, 125 now
                _bought("2025-05-01", "耗材", 1000, 10),
                _bought("2026-02-01", "耗材", 2500, 20),
                # 培训咨询: only now, so no ratio however high its price
                _bought("2026-02-10", "培训咨询", 90000, 1),
            ]
        )

        assert features["price_change_ratio"] == pytest.approx(1.25)

    def test_price_change_ratio_is_null_without_a_line_bought_in_both_windows(self) -> None:
        table = _table(
            customers=[{"id": number} for number in range(1, 5)],
            orders=[
                # 1: one line before, another now
                _bought("2025-04-01", "工业设备", 8000, 1, customer=1),
                _bought("2026-01-05", "耗材", 1200, 10, customer=1),
                # 2: the line only in the last 120 days
                _bought("2025-12-01", "耗材", 1000, 10, customer=2),
                _bought("2026-02-01", "耗材", 1200, 10, customer=2),
                # 3: the line before, but no unit bought now
                _bought("2025-04-01", "耗材", 1000, 10, customer=3),
                _bought("2026-02-01", "耗材", 1200, 0, customer=3),
                # 4: orders without a line are compared with each other
                _bought("2025-04-01", None, 1000, 10, customer=4),
                _bought("2026-02-01", None, 1100, 10, customer=4),
            ],
        )

        assert _by_customer(table, "price_change_ratio") == {
            1: None,
            2: None,
            3: None,
            4: pytest.approx(1.1),
        }


class TestEngagement:
    def test_days_since_last_follow_up_and_inbound_contact(self) -> None:
        features = _features(
            interactions=[
                _touch("2026-03-01 14:00", "outbound", "phone"),
                _touch("2026-03-04 14:00", "outbound", "feedback"),  # not a follow-up
                _touch("2026-03-03 02:00", "inbound", "phone"),
                _touch("2026-03-05 13:00", "system", "app_login"),
                _touch("2026-03-05 14:00", "outbound", "email"),  # at as_of
                _touch("2026-03-05 14:00", "inbound", "wechat"),  # at as_of
            ]
        )

        assert features["days_since_last_follow_up"] == pytest.approx(4.0)
        assert features["days_since_last_inbound"] == pytest.approx(2.5)

    def test_follow_ups_are_outbound_calls_visits_wechat_email_and_meetings(self) -> None:
        features = _features(
            interactions=[
                _touch("2025-12-05 14:00", channel="phone"),  # the 90-day start
                _touch("2026-01-01", channel="visit"),
                _touch("2026-01-15", channel="wechat"),
                _touch("2026-02-01", channel="email"),
                _touch("2026-03-05 13:59", channel="meeting"),
                _touch("2025-12-05 13:59", channel="phone"),  # before the window
                _touch("2026-03-05 14:00", channel="phone"),  # at as_of
                _touch("2026-02-01", "inbound", "phone"),
                _touch("2026-02-01", "outbound", "feedback"),
                _touch("2026-02-01", "outbound", "email_open"),
                _touch("2026-02-01", "system", "app_login"),
            ]
        )

        assert features["follow_ups_90d"] == 5

    def test_usual_follow_up_interval_is_the_mean_gap_in_the_365_days(self) -> None:
        features = _features(
            interactions=[
                _touch("2025-03-05 13:59", channel="visit"),  # before the 365 days
                _touch("2025-03-05 14:00", channel="wechat"),  # their start
                _touch("2025-09-01", channel="email"),
                _touch("2025-10-01", "inbound", "phone"),  # not a follow-up
                _touch("2025-11-01", "outbound", "feedback"),  # not a follow-up
                _touch("2026-01-01", channel="meeting"),
                _touch("2026-03-01 14:00", channel="phone"),
                _touch("2026-03-05 14:00", channel="phone"),  # at as_of
            ]
        )

        # 361 days from 2025-03-05 14:00 to 2026-03-01 14:00, over three gaps
        assert features["usual_follow_up_interval_days"] == pytest.approx(361 / 3)
        assert features["days_since_last_follow_up"] == pytest.approx(4.0)

    def test_usual_follow_up_interval_needs_two_follow_ups_in_the_365_days(self) -> None:
        def follow_up(customer: int, day: str, **more: Any) -> Row:
            return _touch(day, customer_id=customer, **more)

        table = _table(
            customers=[{"id": number} for number in range(1, 5)],
            interactions=[
                # 1: one follow-up in the 365 days, one before them
                follow_up(1, "2025-01-01"),
                follow_up(1, "2026-02-01"),
                # 2: only before the 365 days
                follow_up(2, "2024-06-01"),
                follow_up(2, "2025-01-01"),
                # 3: one follow-up, the other at as_of
                follow_up(3, "2026-02-01"),
                follow_up(3, "2026-03-05 14:00"),
                # 4: two follow-ups, a week apart
                follow_up(4, "2026-02-01"),
                follow_up(4, "2026-02-08", channel="visit"),
            ],
        )

        assert _by_customer(table, "usual_follow_up_interval_days") == {
            1: None,
            2: None,
            3: None,
            4: pytest.approx(7.0),
        }

    def test_interactions_last_30_days_against_the_90_before(self) -> None:
        features = _features(
            interactions=[
                _touch("2026-02-03 14:00"),  # the 30-day start
                _touch("2026-02-20", "inbound", "feedback"),
                _touch("2026-03-05 13:59", "system", "web_visit"),
                _touch("2026-03-05 14:00"),  # at as_of
                _touch("2026-02-03 13:59"),  # the prior 90 days from here
                _touch("2026-01-01", "inbound", "phone"),
                _touch("2025-12-20", "system", "app_login"),
                _touch("2025-12-01"),
                _touch("2025-11-20"),
                _touch("2025-11-05 14:00"),  # the prior window's start
                _touch("2025-11-05 13:59"),  # in neither
            ]
        )

        assert features["interactions_30d"] == 3
        assert features["interactions_prior_90d"] == 6
        # 3 / (6 / 3)
        assert features["activity_ratio"] == pytest.approx(1.5)

    def test_activity_ratio_is_null_without_interactions_before_the_30_days(self) -> None:
        features = _features(interactions=[_touch("2026-02-10"), _touch("2026-03-01")])

        assert features["interactions_30d"] == 2
        assert features["interactions_prior_90d"] == 0
        assert features["activity_ratio"] is None

    def test_digital_activity_is_logins_web_visits_and_email_opens(self) -> None:
        features = _features(
            interactions=[
                _touch("2026-02-03 14:00", "system", "app_login"),
                _touch("2026-02-15", "system", "web_visit"),
                _touch("2026-03-01", "system", "email_open"),
                _touch("2026-03-02", "outbound", "email"),  # a follow-up, not digital
                _touch("2026-03-03", "inbound", "feedback"),
                _touch("2026-03-05 14:00", "system", "web_visit"),  # at as_of
                _touch("2026-01-15", "system", "web_visit"),
                _touch("2025-11-05 14:00", "system", "app_login"),
                _touch("2025-11-05 13:59", "system", "app_login"),  # before both windows
            ]
        )

        assert features["digital_activity_30d"] == 3
        # 3 / (2 / 3)
        assert features["digital_activity_ratio"] == pytest.approx(4.5)

    def test_inbound_contacts_and_their_change(self) -> None:
        features = _features(
            interactions=[
                _touch("2025-12-05 14:00", "inbound", "phone"),  # the 90-day start
                _touch("2026-03-01", "inbound", "feedback"),
                _touch("2026-03-05 14:00", "inbound", "phone"),  # at as_of
                _touch("2026-02-01", "outbound", "phone"),
                _touch("2025-12-05 13:59", "inbound", "wechat"),  # the 90 days before
                _touch("2025-12-01", "inbound", "email"),
                _touch("2025-11-01", "inbound", "phone"),
                _touch("2025-10-01", "inbound", "feedback"),
                _touch("2025-09-06 14:00", "inbound", "phone"),  # their start
                _touch("2025-09-06 13:59", "inbound", "phone"),  # before them
            ]
        )

        assert features["inbound_90d"] == 2
        assert features["inbound_change_90d"] == 2 - 5


class TestService:
    def test_tickets_and_complaints_in_their_windows(self) -> None:
        features = _features(
            tickets=[
                _ticket("2026-02-01", complaint=True),
                _ticket("2025-12-05 14:00", complaint=True),  # the 90-day start
                _ticket("2025-12-05 13:59", complaint=True),
                _ticket("2025-03-05 14:00", complaint=True),  # the 365-day start
                _ticket("2025-03-05 13:59", complaint=True),
                _ticket("2026-01-01"),
                _ticket("2026-03-05 14:00", complaint=True),  # at as_of
            ]
        )

        assert _pick(features, "tickets_90d", "complaints_90d", "complaints_365d") == {
            "tickets_90d": 3,
            "complaints_90d": 2,
            "complaints_365d": 4,
        }

    def test_open_complaints_are_those_not_resolved_before_as_of(self) -> None:
        features = _features(
            tickets=[
                _ticket("2026-02-01", complaint=True, resolved_at="2026-02-02"),
                _ticket("2026-02-10", complaint=True, resolved_at="2026-03-06"),  # later
                _ticket("2026-02-15", complaint=True, resolved_at="2026-03-05 14:00"),
                _ticket("2023-06-01", complaint=True),  # never resolved, however old
                _ticket("2026-02-01"),  # not a complaint
                _ticket("2026-03-05 14:00", complaint=True),  # at as_of
            ]
        )

        assert features["open_complaints"] == 3

    def test_latest_complaint_wait_is_its_time_to_first_response(self) -> None:
        features = _features(
            tickets=[
                _ticket("2026-02-01 08:00", complaint=True, first_response_at="2026-02-03 08:00"),
                _ticket("2026-03-01 10:00", complaint=True, first_response_at="2026-03-01 16:30"),
                _ticket("2026-03-04 09:00"),  # not a complaint, unanswered
                _ticket("2026-03-05 14:00", complaint=True),  # at as_of
            ]
        )

        assert features["latest_complaint_wait_hours"] == pytest.approx(6.5)

    def test_a_complaint_answered_after_as_of_waits_until_as_of(self) -> None:
        features = _features(
            tickets=[
                _ticket("2026-03-01 10:00", complaint=True, first_response_at="2026-03-01 16:30"),
                _ticket("2026-03-04 08:00", complaint=True, first_response_at="2026-03-06 09:00"),
            ]
        )

        assert features["latest_complaint_wait_hours"] == pytest.approx(30.0)
        assert features["mean_first_response_hours_365d"] == pytest.approx(6.5)

    def test_mean_response_and_resolution_of_answered_tickets_in_365_days(self) -> None:
        features = _features(
            tickets=[
                _ticket(
                    "2026-02-01 00:00",
                    first_response_at="2026-02-01 02:00",
                    resolved_at="2026-02-01 10:00",
                ),
                _ticket(
                    "2026-02-10 00:00",
                    complaint=True,
                    first_response_at="2026-02-10 04:00",
                    resolved_at="2026-02-10 20:00",
                ),
                # answered and resolved only after as_of
                _ticket(
                    "2026-03-04 08:00", first_response_at="2026-03-06", resolved_at="2026-03-07"
                ),
                _ticket("2026-02-20"),  # never answered
                # opened before the 365 days
                _ticket(
                    "2025-03-01 00:00",
                    first_response_at="2025-03-05 04:00",
                    resolved_at="2025-03-06 00:00",
                ),
                # opened at the 365-day start
                _ticket(
                    "2025-03-05 14:00",
                    first_response_at="2025-03-05 20:00",
                    resolved_at="2025-03-06 14:00",
                ),
            ]
        )

        assert features["mean_first_response_hours_365d"] == pytest.approx((2 + 4 + 6) / 3)
        assert features["mean_resolution_hours_365d"] == pytest.approx((10 + 20 + 24) / 3)

    def test_nothing_answered_before_as_of_leaves_the_means_null(self) -> None:
        features = _features(
            tickets=[
                _ticket("2026-03-01", first_response_at="2026-03-05 14:00"),
                _ticket("2026-03-02", resolved_at="2026-03-08"),
            ]
        )

        assert features["tickets_90d"] == 2
        assert features["mean_first_response_hours_365d"] is None
        assert features["mean_resolution_hours_365d"] is None
        assert features["latest_complaint_wait_hours"] is None

    def test_complaints_opened_at_the_same_instant_are_ordered_by_id(self) -> None:
        features = _features(
            tickets=[
                {
                    "id": 1,
                    **_ticket("2026-03-01 10:00", True, first_response_at="2026-03-01 20:00"),
                },
                {
                    "id": 2,
                    **_ticket("2026-03-01 10:00", True, first_response_at="2026-03-01 12:00"),
                },
            ]
        )

        assert features["latest_complaint_wait_hours"] == pytest.approx(2.0)


class TestSatisfaction:
    def test_latest_score_and_change_per_survey_kind(self) -> None:
        features = _features(
            surveys=[
                _survey("2025-10-01", 9),
                _survey("2025-11-01", 3, "csat"),
                _survey("2026-01-15", 6),
                _survey("2026-02-01", 4, "csat"),
                _survey("2026-03-05 14:00", 0),  # at as_of
                _survey("2026-03-10", 1, "csat"),  # after as_of
            ]
        )

        assert _pick(features, "latest_nps", "nps_change", "latest_csat", "csat_change") == {
            "latest_nps": 6.0,
            "nps_change": -3.0,
            "latest_csat": 4.0,
            "csat_change": 1.0,
        }

    def test_one_answer_has_no_change(self) -> None:
        features = _features(surveys=[_survey("2026-01-01", 8)])

        assert _pick(features, "latest_nps", "nps_change", "latest_csat", "csat_change") == {
            "latest_nps": 8.0,
            "nps_change": None,
            "latest_csat": None,
            "csat_change": None,
        }

    def test_a_survey_answered_after_as_of_is_ignored(self) -> None:
        features = _features(
            surveys=[
                _survey("2025-06-01", 5, "csat"),
                _survey("2026-01-01", 8),
                _survey("2026-03-06", 2),
                _survey("2026-03-07", 1, "csat"),
            ]
        )

        assert _pick(features, "latest_nps", "nps_change", "latest_csat", "csat_change") == {
            "latest_nps": 8.0,
            "nps_change": None,
            "latest_csat": 5.0,
            "csat_change": None,
        }

    def test_answers_at_the_same_instant_are_ordered_by_id(self) -> None:
        features = _features(
            surveys=[
                {"id": 1, **_survey("2026-01-01", 5)},
                {"id": 3, **_survey("2026-02-01", 3)},
                {"id": 2, **_survey("2026-02-01", 9)},
            ]
        )

        # 5, then 9 (id 2), then 3 (id 3)
        assert features["latest_nps"] == 3.0
        assert features["nps_change"] == -6.0


class TestRelationship:
    def test_a_key_contact_who_left_in_the_90_days(self) -> None:
        def contact(customer: int, left: str | None, key: bool = True) -> Row:
            return {
                "customer_id": customer,
                "is_key": key,
                "active_from": "2024-01-01",
                "active_to": left,
            }

        table = _table(
            customers=[{"id": number} for number in range(1, 7)],
            contacts=[
                contact(1, "2025-12-05 14:00"),  # 90 days ago
                contact(2, "2025-12-04 14:00"),  # 91 days ago
                contact(3, "2026-03-01", key=False),
                contact(4, "2026-03-05 14:00"),  # at as_of
                contact(5, "2026-04-01"),  # later
                contact(6, None),  # still there
            ],
        )

        assert _by_customer(table, "key_contact_changed_90d") == {
            1: 1,
            2: 0,
            3: 0,
            4: 0,
            5: 0,
            6: 0,
        }

    def test_owner_changed_compares_the_latest_rep_with_the_one_before_the_90_days(
        self,
    ) -> None:
        def follow_up(customer: int, day: str, user: int, **more: Any) -> Row:
            return _touch(day, customer_id=customer, user_id=user, **more)

        table = _table(
            customers=[{"id": number} for number in range(1, 9)],
            interactions=[
                # 1: rep 7 before, rep 8 now
                follow_up(1, "2025-10-01", 7),
                follow_up(1, "2026-02-01", 8, channel="visit"),
                # 2: rep 7 throughout; rep 9 only at as_of
                follow_up(2, "2025-10-01", 7),
                follow_up(2, "2026-02-01", 7),
                follow_up(2, "2026-03-05 14:00", 9),
                # 3: no follow-up before the 90 days
                follow_up(3, "2026-01-01", 8),
                # 4: no follow-up in the 90 days
                follow_up(4, "2025-10-01", 7),
                # 5: rep 8 in between, but the latest is rep 7 again
                follow_up(5, "2025-10-01", 7),
                follow_up(5, "2026-01-01", 8),
                follow_up(5, "2026-02-20", 7),
                # 6: rep 8 only on inbound and non-follow-up interactions
                follow_up(6, "2025-10-01", 7),
                follow_up(6, "2026-02-01", 8, direction="inbound"),
                follow_up(6, "2026-02-02", 8, channel="feedback"),
                # 7: rep 7 just before the window, rep 8 at its start
                follow_up(7, "2025-12-05 13:59", 7),
                follow_up(7, "2025-12-05 14:00", 8),
                # 8: the rep before is the latest one before the window
                follow_up(8, "2025-06-01", 8),
                follow_up(8, "2025-10-01", 7),
                follow_up(8, "2026-01-01", 7),
            ],
        )

        assert _by_customer(table, "owner_changed_90d") == {
            1: 1,
            2: 0,
            3: 0,
            4: 0,
            5: 0,
            6: 0,
            7: 1,
            8: 0,
        }

    def test_the_latest_follow_up_on_each_side_of_the_window_decides(self) -> None:
        # ties at one instant between two reps are left to the engine (features.py says why)
        features = _features(
            interactions=[
                {"id": 1, **_touch("2025-09-01", user_id=8)},
                {"id": 2, **_touch("2025-10-01", user_id=7)},  # last before the 90 days
                {"id": 3, **_touch("2026-01-01", user_id=8)},
                {"id": 4, **_touch("2026-02-01", user_id=7)},  # latest
            ]
        )

        assert features["owner_changed_90d"] == 0

    def test_competitor_mentions_in_interactions_tickets_and_surveys(self) -> None:
        features = _features(
            interactions=[
                _touch("2026-01-10", summary="客户提到竞品报价比我们低15%左右。"),
                _touch("2026-01-11", "inbound", "phone", summary="客户说友商给了更长账期"),
                _touch("2026-01-12", "system", "web_visit", summary="Visited the COMPETITOR page"),
                _touch("2026-01-13", summary="电话回访，客户反馈产品使用正常。"),
                _touch("2026-01-14", summary=None),
                _touch("2026-01-15", next_step="了解竞品报价"),  # not the summary
            ],
            tickets=[
                _ticket("2026-02-01", subject="Rival offered a lower price"),
                _ticket("2026-02-02", subject="到货产品有质量问题"),
            ],
            surveys=[
                _survey("2026-02-15", 3, comment="考虑换供应商"),
                _survey("2026-02-16", 9, comment="性价比高，会推荐给同行"),
            ],
        )

        assert features["competitor_mentions_90d"] == 5

    def test_competitor_mentions_count_in_the_90_days_before_as_of(self) -> None:
        features = _features(
            interactions=[
                _touch("2025-12-05 14:00", summary="竞争对手在接触"),  # the 90-day start
                _touch("2025-12-05 13:59", summary="竞争对手在接触"),  # before it
                _touch("2026-03-05 14:00", summary="竞争对手在接触"),  # at as_of
                _touch("2026-03-06", summary="竞争对手在接触"),
            ],
            tickets=[
                _ticket("2025-12-01", subject="another vendor"),
                _ticket("2026-03-05 14:00", subject="another vendor"),
            ],
            surveys=[
                _survey("2025-12-01", 2, comment="别家更便宜"),
                _survey("2026-03-05 14:00", 2, comment="别家更便宜"),
            ],
        )

        assert features["competitor_mentions_90d"] == 1

    def test_english_keywords_ignore_case_and_start_a_word(self) -> None:
        texts = (
            "A RIVAL quoted less",
            "two rivals",
            "Talking to Another Vendor",
            "switching suppliers next year",
            "late arrival of the goods",  # "rival" inside a word
            "competitiveness",  # "competitor" is not in it
            "与rival竞争",  # CJK is no word character
        )
        features = _features(interactions=[_touch("2026-02-01", summary=text) for text in texts])

        assert features["competitor_mentions_90d"] == 5

    def test_one_text_with_two_keywords_is_one_mention(self) -> None:
        features = _features(
            interactions=[_touch("2026-02-01", summary="竞品和友商都在接触，competitor too")]
        )

        assert features["competitor_mentions_90d"] == 1

    def test_competitor_keywords_are_given_and_matched_as_written(self) -> None:
        def mentions(keywords: Sequence[str]) -> int:
            texts = ("Acme 报价", "ACME", "a+b 方案", "aab 方案", "x.y", "xzy", "竞品")
            features = _features(
                keywords,
                interactions=[_touch("2026-02-01", summary=text) for text in texts],
            )
            return int(features["competitor_mentions_90d"])

        assert mentions(["acme"]) == 2
        # regular expression characters are plain characters
        assert mentions(["a+b", "x.y"]) == 2
        assert mentions([]) == 0
        assert mentions(COMPETITOR_KEYWORDS) == 1

    def test_of_the_demo_company_texts_only_the_competitor_ones_mention_one(self) -> None:
        texts = sorted(set(_strings(vars(vocabulary))))
        table = _table(
            customers=[{"id": number} for number in range(1, len(texts) + 1)],
            interactions=[
                _touch("2026-02-01", summary=text, customer_id=number)
                for number, text in enumerate(texts, start=1)
            ],
        )

        mentioned = {
            texts[customer - 1]
            for customer, count in _by_customer(table, "competitor_mentions_90d").items()
            if count
        }
        assert mentioned == {
            *vocabulary.FOLLOW_UP_COMPETITOR,
            vocabulary.CHURN_NOTES["competition"],
        }


def _strings(value: object) -> list[str]:
    """Every string in ``value``: its public names' values, nested in tuples and dicts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            text
            for key, item in value.items()
            if not (isinstance(key, str) and key.startswith("_"))
            for text in [*_strings(key), *_strings(item)]
        ]
    if isinstance(value, tuple | list):
        return [text for item in value for text in _strings(item)]
    return []


class TestContract:
    def test_terms_in_force_on_the_date(self) -> None:
        features = _features(
            subscriptions=[
                _term(1, "2025-04-04 14:00", "2026-04-04 14:00", 1000),  # 30 days left
                _term(1, "2026-01-01", "2026-12-31", 500),
                _term(1, "2024-01-01", "2026-01-01", 700),  # ended
                _term(1, "2026-03-05 14:00", "2027-03-05", 300),  # starts at as_of
                _term(1, "2026-04-01", "2027-04-01", 200),  # starts later
            ]
        )

        assert _pick(features, "has_contract", "days_to_contract_end", "current_mrr") == {
            "has_contract": 1,
            "days_to_contract_end": pytest.approx(30.0),
            "current_mrr": 1500.0,
        }

    def test_a_term_cancelled_before_as_of_is_not_in_force(self) -> None:
        table = _table(
            customers=[{"id": 1}, {"id": 2}, {"id": 3}],
            subscriptions=[
                _term(1, "2025-06-01", "2026-06-01", 800, cancelled_at="2026-02-01"),
                _term(2, "2025-06-01", "2026-06-01", 800, cancelled_at="2026-03-10"),
                _term(3, "2025-06-01", "2026-06-01", 800, cancelled_at="2026-03-05 14:00"),
            ],
        )

        assert _by_customer(table, "has_contract") == {1: 0, 2: 1, 3: 1}
        assert _by_customer(table, "current_mrr") == {1: 0.0, 2: 800.0, 3: 800.0}
        assert _by_customer(table, "days_to_contract_end") == {
            1: None,
            2: pytest.approx(88 - 14 / 24),
            3: pytest.approx(88 - 14 / 24),
        }

    def test_a_term_without_an_end_is_in_force_with_no_days_to_its_end(self) -> None:
        features = _features(subscriptions=[_term(1, "2025-01-01", None, 250)])

        assert _pick(features, "has_contract", "days_to_contract_end", "current_mrr") == {
            "has_contract": 1,
            "days_to_contract_end": None,
            "current_mrr": 250.0,
        }

    def test_renewals_count_terms_renewing_another_started_before_as_of(self) -> None:
        features = _features(
            subscriptions=[
                {"id": 1, **_term(1, "2023-01-01", "2024-01-01", 100)},
                {"id": 2, **_term(1, "2024-01-01", "2025-01-01", 100, renewed_from=1)},
                {"id": 3, **_term(1, "2025-01-01", "2026-01-01", 100, renewed_from=2)},
                {"id": 4, **_term(1, "2026-01-01", "2027-01-01", 120, renewed_from=3)},
                {"id": 5, **_term(1, "2027-01-01", "2028-01-01", 120, renewed_from=4)},
                {"id": 6, **_term(1, "2025-06-01", "2026-06-01", 50)},  # a second plan
            ]
        )

        assert features["renewals"] == 3
        assert features["current_mrr"] == 170.0


class TestTenure:
    def test_tenure_runs_from_first_seen(self) -> None:
        features = _features(customers=[{"id": 1, "first_seen": "2025-03-05 02:00"}])

        assert features["tenure_days"] == pytest.approx(365.5)

    def test_tenure_starts_at_the_earliest_first_seen_purchase_or_term(self) -> None:
        table = _table(
            customers=[
                {"id": 1, "first_seen": None},
                {"id": 2, "first_seen": None},
                {"id": 3, "first_seen": "2026-03-01"},
            ],
            orders=[
                _order("2025-01-01", 10, "refunded", customer=1),
                _order("2025-06-05 14:00", 10, customer=1),
                _order("2026-01-01", 10, customer=2),
                _order("2025-12-05 14:00", 10, customer=3),
            ],
            subscriptions=[_term(2, "2025-12-05 14:00", "2026-12-05", 100)],
        )

        assert _by_customer(table, "tenure_days") == {
            1: pytest.approx(273.0),
            2: pytest.approx(90.0),
            3: pytest.approx(90.0),
        }
