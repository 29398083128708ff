"""Churn episodes and status, on tiny companies computed by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest

import churnradar.analytics as ca
from churnradar.analytics import InactivityThreshold
from churnradar.domain import ChurnDefinition
from support.events import Row, at, company

DEFINITION = ChurnDefinition(noncontract_inactive_days=60, contract_grace_days=30)
SIXTY = InactivityThreshold(60)


def _episodes(
    as_of: str, threshold: InactivityThreshold = SIXTY, **rows: list[Row]
) -> list[dict[str, Any]]:
    tables = company(**rows)
    frame = (
        ca.churn_episodes(tables, as_of=at(as_of), definition=DEFINITION, threshold=threshold)
        .to_pyarrow()
        .to_pandas()
    )
    return _records(frame.sort_values(["customer_id", "churned_at"]))


def _status(as_of: str, **rows: list[Row]) -> dict[int, dict[str, Any]]:
    tables = company(**rows)
    frame = (
        ca.churn_status(tables, as_of=at(as_of), definition=DEFINITION, threshold=SIXTY)
        .to_pyarrow()
        .to_pandas()
    )
    return {row["customer_id"]: row for row in _records(frame)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, pd.Timestamp):
                record[key] = value.to_pydatetime()
    return records


def _orders(customer: int, *days: str, status: str = "completed") -> list[Row]:
    return [
        {"customer_id": customer, "ordered_at": day, "amount": 100, "status": status}
        for day in days
    ]


def _term(customer: int, start: str, end: str | None, **more: Any) -> Row:
    return {"customer_id": customer, "started_at": start, "ends_at": end, "mrr": 1000, **more}


BUYER = [{"id": 1}]
CONTRACT = [{"id": 1, "business_model": "contract"}]


class TestInactivityThreshold:
    def test_configured_days_are_used_as_they_are(self) -> None:
        tables = company(customers=BUYER, orders=_orders(1, "2025-01-01", "2025-01-02"))
        threshold = ca.inactivity_threshold(
            tables,
            as_of=at("2026-01-01"),
            definition=ChurnDefinition(
                noncontract_inactive_days=45, segment_inactive_days={"大客户": 20}
            ),
        )
        assert threshold == InactivityThreshold(45, {"大客户": 20})

    def test_derived_from_the_gaps_between_purchases_per_segment(self) -> None:
        # 31 gaps of 10 days for 大客户 and 31 of 40 days for 小微客户; quantile 0.98
        customers = [{"id": 1, "segment": "大客户"}, {"id": 2, "segment": "小微客户"}]
        orders = [
            {
                "customer_id": 1,
                "ordered_at": at("2024-01-01") + pd.Timedelta(days=10 * i),
                "amount": 1,
            }
            for i in range(32)
        ] + [
            {
                "customer_id": 2,
                "ordered_at": at("2022-01-01") + pd.Timedelta(days=40 * i),
                "amount": 1,
            }
            for i in range(32)
        ]
        threshold = ca.inactivity_threshold(
            company(customers=customers, orders=orders),
            as_of=at("2026-01-01"),
            definition=ChurnDefinition(),
        )
        assert threshold.derived
        assert threshold.intervals == 62
        assert threshold.by_segment == {"大客户": 10, "小微客户": 40}
        assert threshold.days == 40  # the 0.98 quantile of all 62 gaps

    def test_too_few_gaps_fall_back_to_180_days(self) -> None:
        tables = company(
            customers=BUYER, orders=_orders(1, "2025-01-01", "2025-02-01", "2025-03-01")
        )
        threshold = ca.inactivity_threshold(
            tables, as_of=at("2026-01-01"), definition=ChurnDefinition()
        )
        assert (threshold.days, threshold.derived, threshold.intervals) == (180, False, 2)

    def test_purchases_after_as_of_are_not_read(self) -> None:
        orders = [
            {
                "customer_id": 1,
                "ordered_at": at("2025-01-01") + pd.Timedelta(days=5 * i),
                "amount": 1,
            }
            for i in range(40)
        ]
        tables = company(customers=BUYER, orders=orders)
        early = ca.inactivity_threshold(
            tables, as_of=at("2025-03-01"), definition=ChurnDefinition()
        )
        assert early.intervals == 11  # orders on days 0..55 before 2025-03-01 (day 59)


class TestInactiveChurn:
    def test_churned_n_days_after_the_last_purchase(self) -> None:
        [episode] = _episodes(
            "2025-06-01", customers=BUYER, orders=_orders(1, "2025-01-01", "2025-02-01")
        )
        assert episode["churned_at"] == at("2025-04-02")  # 2025-02-01 + 60 days
        assert (episode["churn_type"], episode["churn_reason"], episode["evidence"]) == (
            "hidden",
            "unknown",
            "inactive",
        )
        assert episode["won_back_at"] is None

    def test_not_before_n_days_have_passed(self) -> None:
        assert _episodes("2025-04-02", customers=BUYER, orders=_orders(1, "2025-02-01")) == []
        assert (
            len(_episodes("2025-04-02 00:00:01", customers=BUYER, orders=_orders(1, "2025-02-01")))
            == 1
        )

    def test_a_gap_of_exactly_n_days_is_not_churn(self) -> None:
        assert (
            _episodes(
                "2025-06-01",
                customers=BUYER,
                orders=_orders(1, "2025-01-01", "2025-03-02", "2025-05-01"),
            )
            == []
        )

    def test_a_customer_who_comes_back_is_won_back(self) -> None:
        rows: dict[str, Any] = {
            "customers": BUYER,
            "orders": _orders(1, "2025-01-01", "2025-06-01"),
        }
        [episode] = _episodes("2025-07-01", **rows)
        assert episode["churned_at"] == at("2025-03-02")
        assert episode["won_back_at"] == at("2025-06-01")
        assert _status("2025-05-01", **rows)[1]["status"] == "churned"
        assert _status("2025-07-01", **rows)[1]["status"] == "won_back"

    def test_refunded_and_cancelled_orders_are_not_purchases(self) -> None:
        orders = _orders(1, "2025-01-01") + _orders(1, "2025-02-15", status="refunded")
        orders += _orders(1, "2025-02-20", status="cancelled")
        [episode] = _episodes("2025-06-01", customers=BUYER, orders=orders)
        assert episode["churned_at"] == at("2025-03-02")
        assert episode["won_back_at"] is None

    def test_the_threshold_of_the_customers_segment_applies(self) -> None:
        customers = [{"id": 1, "segment": "大客户"}, {"id": 2, "segment": "小微客户"}]
        orders = _orders(1, "2025-01-01") + _orders(2, "2025-01-01")
        threshold = InactivityThreshold(60, {"大客户": 20})
        episodes = _episodes("2025-06-01", threshold, customers=customers, orders=orders)
        assert [(e["customer_id"], e["churned_at"]) for e in episodes] == [
            (1, at("2025-01-21")),
            (2, at("2025-03-02")),
        ]

    def test_contract_customers_are_not_judged_by_orders(self) -> None:
        rows: dict[str, Any] = {
            "customers": CONTRACT,
            "orders": _orders(1, "2025-01-01"),
            "subscriptions": [_term(1, "2025-01-01", "2027-01-01")],
        }
        assert _episodes("2026-01-01", **rows) == []


class TestRecordedChurn:
    def test_a_recorded_event_dates_and_explains_the_episode(self) -> None:
        events = [
            {
                "customer_id": 1,
                "occurred_at": "2025-03-20",
                "type": "passive",
                "reason": "competition",
            }
        ]
        [episode] = _episodes(
            "2025-06-01",
            customers=BUYER,
            orders=_orders(1, "2025-01-01", "2025-02-01"),
            churn_events=events,
        )
        # silence made him churned on 04-02 already, but his statement is the better evidence
        assert (episode["churned_at"], episode["churn_type"], episode["churn_reason"]) == (
            at("2025-03-20"),
            "passive",
            "competition",
        )
        assert episode["evidence"] == "recorded"

    def test_detected_events_are_not_evidence(self) -> None:
        events = [{"customer_id": 1, "occurred_at": "2025-01-20", "source": "detected"}]
        assert (
            _episodes(
                "2025-02-01", customers=BUYER, orders=_orders(1, "2025-01-01"), churn_events=events
            )
            == []
        )

    def test_the_customer_rows_churn_date_counts_with_a_type_from_its_reason(self) -> None:
        customers = [
            {"id": 1, "churned_at": "2025-01-10", "churn_reason": "service", "status": "churned"}
        ]
        [episode] = _episodes("2025-02-01", customers=customers, orders=_orders(1, "2025-01-01"))
        assert (episode["churn_type"], episode["churn_reason"]) == ("passive", "service")

    def test_an_event_after_as_of_is_unknown(self) -> None:
        events = [{"customer_id": 1, "occurred_at": "2025-02-01"}]
        assert (
            _episodes(
                "2025-02-01", customers=BUYER, orders=_orders(1, "2025-01-01"), churn_events=events
            )
            == []
        )


class TestContractChurn:
    def test_a_term_not_renewed_churns_at_its_end_once_the_grace_has_passed(self) -> None:
        rows: dict[str, Any] = {
            "customers": CONTRACT,
            "subscriptions": [_term(1, "2025-01-01", "2026-01-01")],
        }
        assert _episodes("2026-01-30", **rows) == []  # 29 days into the grace: maybe renewing
        [episode] = _episodes("2026-01-31", **rows)
        assert (episode["churned_at"], episode["evidence"], episode["churn_type"]) == (
            at("2026-01-01"),
            "lapsed",
            "hidden",
        )

    def test_a_renewal_late_within_the_grace_is_no_churn(self) -> None:
        terms = [
            _term(1, "2025-01-01", "2026-01-01"),
            _term(1, "2026-01-25", "2027-01-25", renewed_from=1),
        ]
        assert _episodes("2026-06-01", customers=CONTRACT, subscriptions=terms) == []
        assert (
            _status("2026-01-20", customers=CONTRACT, subscriptions=terms)[1]["status"] == "active"
        )

    def test_a_term_started_after_the_grace_wins_the_customer_back(self) -> None:
        terms = [_term(1, "2025-01-01", "2026-01-01"), _term(1, "2026-03-01", "2027-03-01")]
        [episode] = _episodes("2026-06-01", customers=CONTRACT, subscriptions=terms)
        assert (episode["churned_at"], episode["won_back_at"]) == (
            at("2026-01-01"),
            at("2026-03-01"),
        )

    def test_a_cancellation_is_a_stated_churn_at_once(self) -> None:
        terms = [
            _term(1, "2025-01-01", "2026-01-01", cancelled_at="2025-06-10", cancel_reason="price")
        ]
        [episode] = _episodes("2025-06-11", customers=CONTRACT, subscriptions=terms)
        assert (
            episode["churned_at"],
            episode["evidence"],
            episode["churn_type"],
            episode["churn_reason"],
        ) == (
            at("2025-06-10"),
            "cancelled",
            "active",
            "price",
        )

    def test_a_cancellation_for_a_competitor_is_passive(self) -> None:
        terms = [
            _term(
                1,
                "2025-01-01",
                "2026-01-01",
                cancelled_at="2025-06-10",
                cancel_reason="competition",
            )
        ]
        [episode] = _episodes("2025-07-01", customers=CONTRACT, subscriptions=terms)
        assert episode["churn_type"] == "passive"

    def test_a_cancellation_after_as_of_is_unknown(self) -> None:
        terms = [
            _term(1, "2025-01-01", "2026-01-01", cancelled_at="2025-06-10", cancel_reason="price")
        ]
        assert _episodes("2025-06-10", customers=CONTRACT, subscriptions=terms) == []

    def test_another_term_still_running_keeps_the_customer(self) -> None:
        terms = [_term(1, "2025-01-01", "2025-07-01"), _term(1, "2025-03-01", "2026-03-01")]
        assert _episodes("2025-12-01", customers=CONTRACT, subscriptions=terms) == []
        [episode] = _episodes("2026-04-01", customers=CONTRACT, subscriptions=terms)
        assert episode["churned_at"] == at("2026-03-01")

    def test_a_term_without_end_never_lapses(self) -> None:
        assert (
            _episodes(
                "2030-01-01", customers=CONTRACT, subscriptions=[_term(1, "2025-01-01", None)]
            )
            == []
        )

    def test_a_recorded_event_and_the_lapse_are_one_episode(self) -> None:
        events = [{"customer_id": 1, "occurred_at": "2026-01-01 02:00", "reason": "price"}]
        terms = [_term(1, "2025-01-01", "2026-01-01")]
        [episode] = _episodes(
            "2026-03-01", customers=CONTRACT, subscriptions=terms, churn_events=events
        )
        assert (episode["churned_at"], episode["evidence"], episode["churn_reason"]) == (
            at("2026-01-01 02:00"),
            "recorded",
            "price",
        )


class TestChurnStatus:
    def test_known_customers_only_with_when_they_became_one(self) -> None:
        customers = [
            {"id": 1, "first_seen": "2025-01-01"},
            {"id": 2, "first_seen": None},
            {"id": 3, "first_seen": "2025-09-01"},
            {"id": 4, "first_seen": None},
        ]
        status = _status("2025-06-01", customers=customers, orders=_orders(2, "2025-03-01"))
        assert set(status) == {1, 2}
        assert status[2]["since"] == at("2025-03-01")
        # a customer who never bought is not judged by silence; one who did, is
        assert (status[1]["status"], status[2]["status"]) == ("active", "churned")

    def test_a_purchase_before_the_first_seen_date_makes_him_known_earlier(self) -> None:
        customers = [{"id": 1, "first_seen": "2025-05-01"}]
        status = _status("2025-03-01", customers=customers, orders=_orders(1, "2025-02-01"))
        assert status[1]["since"] == at("2025-02-01")

    def test_the_latest_episode_decides(self) -> None:
        orders = _orders(1, "2025-01-01", "2025-06-01")
        status = _status("2025-10-01", customers=BUYER, orders=orders)[1]
        assert status["status"] == "churned"
        assert status["churned_at"] == at("2025-07-31")  # the second silence
        assert status["won_back_at"] is None

    @pytest.mark.parametrize(
        ("as_of", "expected"), [("2025-03-01", "active"), ("2025-03-03", "churned")]
    )
    def test_status_moves_with_as_of(self, as_of: str, expected: str) -> None:
        assert (
            _status(as_of, customers=BUYER, orders=_orders(1, "2025-01-01"))[1]["status"]
            == expected
        )

    def test_as_of_must_be_aware(self) -> None:
        tables = company(customers=BUYER)
        with pytest.raises(ValueError, match="aware"):
            ca.churn_status(
                tables, as_of=datetime(2025, 1, 1), definition=DEFINITION, threshold=SIXTY
            )
