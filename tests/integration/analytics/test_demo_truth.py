"""Churn as the analytics layer measures it, against the demo company's ground truth.

The demo company plants when and how each customer really churned (docs/demo-data.md). What
the company *records* (churn events, contract ends and cancellations) must give exactly the
true churn dates; what it does not record (a repeat buyer going quiet) must be found by the
inactivity definition within the detection lag that definition implies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

import churnradar.analytics as ca
from churnradar.config import load_settings
from churnradar.domain import ChurnDefinition
from churnradar.store.engine import make_engine
from churnradar.store.tables import Customer
from churnradar.store.tables.ground_truth import DemoGroundTruth
from churnradar.workflow.demo_build import build_demo_company

END = date(2026, 11, 22)
AS_OF = datetime(2026, 11, 22, 16, tzinfo=UTC)  # 2026-11-23 00:00 in Shanghai: after the last day
TIMEZONE = "Asia/Shanghai"
DEFINITION = ChurnDefinition()


@dataclass(frozen=True)
class Measured:
    threshold: ca.InactivityThreshold
    episodes: pd.DataFrame
    status: pd.DataFrame


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    folder = tmp_path_factory.mktemp("demo")
    settings = load_settings(data_dir=folder)
    engine = make_engine(make_url(f"sqlite:///{folder / 'churnradar.db'}"))
    build_demo_company(engine, settings, customers=2000, seed=42, end=END, years=3)
    return engine, settings.mirror_dir


@pytest.fixture(scope="module")
def truth(demo: tuple[Engine, Path]) -> pd.DataFrame:
    engine, _ = demo
    query = select(
        DemoGroundTruth.customer_id,
        DemoGroundTruth.churned,
        DemoGroundTruth.churned_at,
        DemoGroundTruth.churn_type,
        DemoGroundTruth.won_back_at,
        Customer.business_model,
        Customer.segment,
    ).join(Customer, Customer.id == DemoGroundTruth.customer_id)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all())
    frame["business_model"] = frame["business_model"].map(str)
    frame["churn_type"] = frame["churn_type"].map(lambda value: value and str(value))
    return frame


@pytest.fixture(scope="module")
def measured(demo: tuple[Engine, Path]) -> Measured:
    _, mirror = demo
    tables = ca.open_mirror(mirror)
    threshold = ca.inactivity_threshold(tables, as_of=AS_OF, definition=DEFINITION)
    episodes = (
        ca.churn_episodes(tables, as_of=AS_OF, definition=DEFINITION, threshold=threshold)
        .to_pyarrow()
        .to_pandas()
    )
    status = (
        ca.churn_status(tables, as_of=AS_OF, definition=DEFINITION, threshold=threshold)
        .to_pyarrow()
        .to_pandas()
    )
    return Measured(threshold, episodes, status)


def _local_day(values: pd.Series) -> pd.Series:
    return values.dt.tz_convert(TIMEZONE).dt.date


def _months(values: pd.Series) -> dict[str, int]:
    counts = values.dt.tz_convert(TIMEZONE).dt.strftime("%Y-%m").value_counts()
    return {str(month): int(count) for month, count in counts.items()}


def _latest(episodes: pd.DataFrame) -> pd.DataFrame:
    return episodes.sort_values("churned_at").groupby("customer_id").tail(1)


class TestContractChurn:
    def test_counts_per_month_equal_the_truth(
        self,
        truth: pd.DataFrame,
        measured: Measured,
    ) -> None:
        episodes = measured.episodes
        settled = AS_OF - timedelta(days=DEFINITION.contract_grace_days)
        contract = truth[(truth.business_model == "contract") & truth.churned_at.notna()]
        true_dates = contract.churned_at[contract.churned_at < settled]
        ours = _latest(
            episodes[
                episodes.customer_id.isin(truth.customer_id[truth.business_model == "contract"])
            ]
        )
        assert len(true_dates) > 100
        assert _months(ours.churned_at[ours.churned_at < settled]) == _months(true_dates)

    def test_each_customer_churns_on_his_true_day(
        self,
        truth: pd.DataFrame,
        measured: Measured,
    ) -> None:
        episodes = measured.episodes
        settled = AS_OF - timedelta(days=DEFINITION.contract_grace_days)
        contract = truth[(truth.business_model == "contract") & (truth.churned_at < settled)].merge(
            _latest(episodes), on="customer_id", suffixes=("_true", "")
        )
        assert (_local_day(contract.churned_at) == _local_day(contract.churned_at_true)).all()
        came_back = contract.won_back_at_true.notna() & (
            contract.won_back_at_true > contract.churned_at_true
        )
        # the return ends the episode on the true day, and the status says won back
        assert (
            _local_day(contract.won_back_at[came_back])
            == _local_day(contract.won_back_at_true[came_back])
        ).all()


class TestRecordedChurn:
    def test_counts_per_month_equal_the_truth(
        self,
        truth: pd.DataFrame,
        measured: Measured,
    ) -> None:
        episodes = measured.episodes
        # the demo records churn with a stated type; unrecorded churn is hidden
        told = truth[truth.churned_at.notna() & truth.churn_type.isin(["active", "passive"])]
        ours = _latest(episodes[episodes.customer_id.isin(told.customer_id)])
        assert len(told) > 200
        assert set(ours.evidence) == {"recorded"}
        assert _months(ours.churned_at) == _months(told.churned_at)
        assert sorted(ours.churn_type) == sorted(told.churn_type)


class TestHiddenChurn:
    def test_inactivity_finds_it_within_the_detection_lag(
        self,
        truth: pd.DataFrame,
        measured: Measured,
    ) -> None:
        threshold, status = measured.threshold, measured.status
        assert threshold.derived
        days = truth.segment.map(threshold.by_segment).fillna(threshold.days)
        hidden = truth[
            (truth.business_model == "noncontract")
            & truth.churned
            & (truth.churn_type == "hidden")
            # only churn old enough to be detectable: the last purchase came before it
            & (truth.churned_at < AS_OF - pd.to_timedelta(days, unit="D"))
        ].assign(days=days)
        found = hidden.merge(status, on="customer_id", suffixes=("_true", ""))
        churned = found[found.status == "churned"]
        lag = (churned.churned_at - churned.churned_at_true).dt.total_seconds() / 86_400
        assert len(hidden) > 150
        # customers who never bought in the history cannot be seen by inactivity
        assert len(churned) / len(hidden) > 0.95
        assert set(churned.evidence) == {"inactive"}
        # detected = last purchase + N, and the last purchase came before the true churn
        assert (lag <= churned.days).all()
        # a customer whose orders had already thinned out is detected before he decided
        assert ((lag >= 0) & (lag <= churned.days)).mean() > 0.9
