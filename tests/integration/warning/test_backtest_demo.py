"""The default rule pack backtested on the demo company, against what the company planted.

The demo company's churn is caused by mechanisms with known strengths (docs/demo-data.md).
The backtest grades each rule on the churn the company can observe; the ground truth says
why each customer really left, so it can tell whether a rule made for a mechanism catches
the customers that mechanism drove away, and not just anybody who leaves.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from churnradar.config import Settings, load_settings
from churnradar.store.engine import make_engine
from churnradar.store.tables.ground_truth import DemoGroundTruth
from churnradar.warning import default_pack
from churnradar.warning.backtest import Grade, churner_catches
from churnradar.workflow.backtest import Backtest, backtest_pack
from churnradar.workflow.demo_build import build_demo_company

END = date(2026, 11, 22)
AS_OF = datetime(2026, 11, 22, 16, tzinfo=UTC)  # after the last simulated day, in Shanghai
# the rule made for each planted mechanism, and the reason that mechanism gives a churn
MADE_FOR = {
    "slow_complaint_response": "service",
    "complaints": "service",
    "no_follow_up": "engagement",
    "key_contact_changed": "relationship",
    "competitor_mentioned": "competition",
}
# rules whose lift reaches the bar on this company (see docs/rules.md for the others)
LIFT_ABOVE_1_5 = ("slow_complaint_response", "key_contact_changed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Settings]:
    folder = tmp_path_factory.mktemp("demo")
    settings = load_settings(data_dir=folder)
    engine = make_engine(make_url(f"sqlite:///{folder / 'churnradar.db'}"))
    build_demo_company(engine, settings, customers=3000, seed=42, end=END, years=3)
    return engine, settings


@pytest.fixture(scope="module")
def backtest(demo: tuple[Engine, Settings]) -> Backtest:
    engine, settings = demo
    return backtest_pack(engine, settings, default_pack(), as_of=AS_OF, step_days=7)


@pytest.fixture(scope="module")
def true_churn(demo: tuple[Engine, Settings]) -> pd.DataFrame:
    engine, _ = demo
    query = select(
        DemoGroundTruth.customer_id, DemoGroundTruth.churned_at, DemoGroundTruth.churn_reason
    ).where(DemoGroundTruth.churned_at.isnot(None))
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all())
    left = pd.to_datetime(frame["churned_at"], utc=True).dt.tz_localize(None)
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "left_at": left.astype("datetime64[us]"),
            "known_at": left.astype("datetime64[us]"),
            "reason": frame["churn_reason"].map(str),
        }
    )


def _grade(backtest: Backtest, rule: str) -> Grade:
    return next(grade for grade in backtest.grades if grade.rule == rule)


def test_the_backtest_covers_the_last_year_with_every_rule(backtest: Backtest) -> None:
    assert backtest.dates == 53
    assert (backtest.end - backtest.start).days == 364
    assert backtest.reps == 20
    assert [grade.rule for grade in backtest.grades][:-2] == [r.key for r in default_pack().enabled]
    base = backtest.grades[-1].base_rate
    assert base is not None
    assert 0.02 < base < 0.15
    assert all(grade.base_rate == base for grade in backtest.grades)


@pytest.mark.parametrize("rule", LIFT_ABOVE_1_5)
def test_a_mechanism_rule_beats_the_base_rate(backtest: Backtest, rule: str) -> None:
    grade = _grade(backtest, rule)
    assert grade.alerts >= 100
    assert grade.lift is not None
    assert grade.lift > 1.5
    assert grade.median_lead_days is not None
    assert grade.median_lead_days > 0


@pytest.mark.parametrize("rule", sorted(MADE_FOR))
def test_each_mechanism_is_caught_by_the_rule_made_for_it(
    backtest: Backtest, true_churn: pd.DataFrame, rule: str
) -> None:
    """Of the customers a mechanism truly drove away, the rule made for it caught at least
    twice the share it caught of customers who left for other reasons."""
    history = dataclasses.replace(backtest.history, churns=true_churn)
    caught = churner_catches(history, rule)
    own = caught["reason"] == MADE_FOR[rule]
    assert own.sum() >= 15
    assert (~own).sum() >= 100
    assert caught.loc[own, "caught"].mean() >= 2 * caught.loc[~own, "caught"].mean()


def test_the_pack_catches_nearly_every_churner_before_it_is_known(backtest: Backtest) -> None:
    pack = backtest.grades[-1]
    assert pack.churners >= 200
    assert pack.recall is not None
    assert pack.recall > 0.9
