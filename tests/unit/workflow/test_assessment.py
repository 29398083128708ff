"""When each churn left and when it could be known, and who was churned on a date as known then."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnradar.domain import ChurnDefinition
from churnradar.workflow.assessment import churn_history, churned_on
from support.events import at, company

DEFINITION = ChurnDefinition(noncontract_inactive_days=60, contract_grace_days=30)


def _day(text: str) -> np.datetime64:
    return np.datetime64(pd.Timestamp(text), "us")


def _history() -> pd.DataFrame:
    tables = company(
        customers=[
            {"id": 1, "segment": "小微客户"},  # inactive: last purchase 2025-03-01
            {"id": 2, "business_model": "contract"},  # lapsed: term ended 2025-06-30
            {"id": 3},  # recorded churn, won back by an order (quiet again only after 2025-10-31)
        ],
        orders=[
            {"customer_id": 1, "ordered_at": "2025-02-01", "amount": 100},
            {"customer_id": 1, "ordered_at": "2025-03-01", "amount": 100},
            {"customer_id": 3, "ordered_at": "2025-02-01", "amount": 100},
            {"customer_id": 3, "ordered_at": "2025-09-01", "amount": 100},
        ],
        subscriptions=[
            {
                "customer_id": 2,
                "mrr": 1000,
                "started_at": "2024-07-01",
                "ends_at": "2025-06-30",
                "status": "expired",
            },
        ],
        churn_events=[{"customer_id": 3, "occurred_at": "2025-05-10", "reason": "price"}],
    )
    found = churn_history(tables, as_of=at("2025-10-15"), definition=DEFINITION)
    return found.set_index("customer_id").sort_index()


def test_an_inactive_buyer_left_at_his_last_purchase_and_is_known_n_days_later() -> None:
    history = _history()
    assert history.loc[1, "left_at"] == _day("2025-03-01")
    assert history.loc[1, "known_at"] == _day("2025-04-30")  # + 60 days


def test_a_lapsed_contract_left_at_the_end_of_cover_and_is_known_after_the_grace() -> None:
    history = _history()
    assert history.loc[2, "left_at"] == _day("2025-06-30")
    assert history.loc[2, "known_at"] == _day("2025-07-30")


def test_a_recorded_churn_is_known_when_it_happens_and_ends_with_the_return() -> None:
    history = _history()
    assert history.loc[3, "left_at"] == history.loc[3, "known_at"] == _day("2025-05-10")
    assert history.loc[3, "won_back_at"] == _day("2025-09-01")


def test_churned_on_a_date_means_known_then_and_not_yet_back() -> None:
    history = _history().reset_index()
    ids = np.array([1, 2, 3], np.int64)
    # 2025-04-15: customer 1 has left but it is not known until 2025-04-30
    assert churned_on(history, ids, at("2025-04-15")).tolist() == [False, False, False]
    assert churned_on(history, ids, at("2025-05-15")).tolist() == [True, False, True]
    # inside customer 2's grace period he is still a customer as far as anyone knows
    assert churned_on(history, ids, at("2025-07-15")).tolist() == [True, False, True]
    assert churned_on(history, ids, at("2025-08-01")).tolist() == [True, True, True]
    # customer 3 came back on 2025-09-01
    assert churned_on(history, ids, at("2025-09-02")).tolist() == [True, True, False]
