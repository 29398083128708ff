"""``churnradar rules backtest``: the pack evaluated at past dates and graded on the churn
that followed (the definitions are in ``warning.backtest`` and docs/rules.md).

At each evaluation date the features are computed as of that date, only for customers known
and not churned then, so a rule sees exactly what it would have seen had it been on. The
churn it is graded on is every episode known at ``as_of`` (default: now); by default the
backtest ends one horizon before ``as_of``, so every alert's horizon has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine

import churnradar.analytics as ca
from churnradar.config import Settings
from churnradar.domain import ChurnDefinition
from churnradar.errors import InvalidInput
from churnradar.warning import RulePack, health_scores, rule_firings
from churnradar.warning.backtest import Grade, History, grade
from churnradar.workflow.assessment import (
    assessment_table,
    churned_on,
    evaluation_dates,
    opened,
)

HEALTH_RULE = "health_below"  # the health score graded like a rule: below the medium cut-off
DEFAULT_SPAN_DAYS = 365


@dataclass(frozen=True)
class Backtest:
    start: datetime
    end: datetime
    step_days: int
    horizon_days: int
    dates: int
    customers: int  # distinct customers evaluated on some date
    reps: int
    grades: list[Grade]
    history: History  # the evaluations behind the grades, for drilling down


def backtest_pack(
    engine: Engine,
    settings: Settings,
    pack: RulePack,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
    step_days: int = 7,
    horizon_days: int = 90,
    definition: ChurnDefinition | None = None,
    refresh: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    as_of = as_of or datetime.now(UTC)
    end = end or as_of - timedelta(days=horizon_days)
    start = start or end - timedelta(days=DEFAULT_SPAN_DAYS)
    if step_days < 1 or horizon_days < 1:
        raise InvalidInput("rules.bad_step", step=step_days, horizon=horizon_days)
    if not start < end <= as_of:
        local = ZoneInfo(settings.timezone)
        start, end, as_of = (moment.astimezone(local) for moment in (start, end, as_of))
        raise InvalidInput(
            "rules.bad_window",
            start=f"{start:%Y-%m-%d}",
            end=f"{end:%Y-%m-%d}",
            as_of=f"{as_of:%Y-%m-%d}",
        )
    with opened(engine, settings, as_of=as_of, definition=definition, refresh=refresh) as data:
        dates = evaluation_dates(start, end, step_days)
        evaluate = _Evaluator(data.backend, pack)
        population, fired = [], []
        for index, moment in enumerate(dates):
            evaluated, firing = evaluate(data.tables, moment, data.churns)
            population.append(evaluated.assign(date=index))
            fired.append(firing.assign(date=index))
            data.tables.release()  # each date's temporary tables are not needed again
            if progress:
                progress(index + 1, len(dates))
    churns = data.churns
    history = History(
        dates=np.array([np.datetime64(d.replace(tzinfo=None), "us") for d in dates]),
        population=pd.concat(population, ignore_index=True),
        fired=pd.concat(fired, ignore_index=True),
        churns=churns[["customer_id", "left_at", "known_at"]].reset_index(drop=True),
        horizon_days=horizon_days,
    )
    keys = [rule.key for rule in pack.enabled]
    return Backtest(
        start=dates[0],
        end=dates[-1],
        step_days=step_days,
        horizon_days=horizon_days,
        dates=len(dates),
        customers=int(history.population["customer_id"].nunique()),
        reps=int(history.population["owner_id"].dropna().nunique()),
        grades=grade(history, [*keys, HEALTH_RULE]),
        history=history,
    )


class _Evaluator:
    """Rules and health over one date's assessment table. The table is rebuilt under one
    name for every date, so the rules' SQL is compiled once: compiling the pack's
    expression takes longer than running it on a company of thousands."""

    TABLE = "backtest_assessment"

    def __init__(self, backend: Any, pack: RulePack) -> None:
        self.backend, self.pack = backend, pack
        self.keys = [rule.key for rule in pack.enabled]
        self.query: str | None = None

    def __call__(
        self, tables: ca.EventTables, moment: datetime, churns: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The active customers on ``moment`` (with owner) and the rules firing for them,
        the health score's "below the cut-off" among them."""
        features = self.backend.compile(assessment_table(tables, moment))
        self.backend.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{self.TABLE}" AS {features}')
        if self.query is None:
            table = self.backend.table(self.TABLE)
            health = health_scores(self.pack.health, table).select("customer_id", "health")
            expression = (
                table.select("customer_id", "owner_id")
                .join(rule_firings(self.pack, table), "customer_id")
                .join(health, "customer_id")
            )
            self.query = str(self.backend.compile(expression))
        frame = self.backend.con.sql(self.query).to_arrow_table().to_pandas()
        frame = frame[~churned_on(churns, frame["customer_id"].to_numpy(np.int64), moment)]
        frame[HEALTH_RULE] = frame["health"] < self.pack.health.tiers.medium_below
        keys = [*self.keys, HEALTH_RULE]
        flags = frame[keys].fillna(False).to_numpy(dtype=bool)
        rows, columns = np.nonzero(flags)
        firing = pd.DataFrame(
            {
                "customer_id": frame["customer_id"].to_numpy(np.int64)[rows],
                "rule": np.asarray(keys, dtype=object)[columns],
            }
        )
        return frame[["customer_id", "owner_id"]].reset_index(drop=True), firing
