"""Assessing customers as of a date: the feature table with the attributes rules may read,
the customers still active then, and the rules and health score over them.

Shared by the rule backtest (at many past dates) and the health check (today), and by the
daily run when it lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

import churnradar.analytics as ca
from churnradar.config import Settings
from churnradar.domain import ChurnDefinition, ReasonCode
from churnradar.store.directory import customer_names
from churnradar.store.mirror import refresh_mirror
from churnradar.warning import (
    RulePack,
    health_scores,
    reason_sources,
    render,
    rule_firings,
    top_reasons,
)
from churnradar.warning.alerts import alert_sentence, rule_alerts
from churnradar.warning.spec import Playbook


def assessment_table(tables: ca.EventTables, as_of: datetime) -> ir.Table:
    """One row per customer known before ``as_of``: ``customer_id``, ``segment``,
    ``business_model``, ``owner_id`` and every catalogue feature. The attributes are today's
    (the customer table keeps no history of them)."""
    features = ca.feature_table(tables, as_of)
    customers = tables.customers.select(
        customer_id=tables.customers.id,
        segment=tables.customers.segment,
        business_model=tables.customers.business_model,
        owner_id=tables.customers.owner_id,
    )
    return features.join(customers, "customer_id")


def churn_history(
    tables: ca.EventTables, *, as_of: datetime, definition: ChurnDefinition
) -> pd.DataFrame:
    """Every churn episode known at ``as_of``: ``customer_id``; ``left_at``, when the
    customer left (the churn date; for inactivity his last purchase, the threshold before
    it); ``known_at``, when the churn could be known (inactivity: the churn date; a lapse:
    the end of its grace period; else the churn date); ``won_back_at`` (NaT while away).
    Naive UTC ``datetime64[us]``."""
    threshold = ca.inactivity_threshold(tables, as_of=as_of, definition=definition)
    episodes = (
        ca.churn_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
        .join(
            tables.customers.select(
                customer_id=tables.customers.id, segment=tables.customers.segment
            ),
            "customer_id",
        )
        .select("customer_id", "segment", "churned_at", "evidence", "won_back_at")
        .to_pyarrow()
        .to_pandas()
    )
    churned = _naive(episodes["churned_at"])
    evidence = episodes["evidence"].to_numpy()
    days = episodes["segment"].map(threshold.by_segment).fillna(threshold.days).to_numpy()
    inactive = evidence == ca.ChurnEvidence.INACTIVE.value
    lapsed = evidence == ca.ChurnEvidence.LAPSED.value
    day = np.timedelta64(1, "D")
    return pd.DataFrame(
        {
            "customer_id": episodes["customer_id"].to_numpy(np.int64),
            "left_at": churned - np.where(inactive, days, 0).astype(np.int64) * day,
            "known_at": churned + np.where(lapsed, definition.contract_grace_days, 0) * day,
            "won_back_at": _naive(episodes["won_back_at"]),
        }
    )


@dataclass(frozen=True)
class Opened:
    """The event tables on their own backend and the churn history known at ``as_of``."""

    backend: Any
    tables: ca.EventTables
    churns: pd.DataFrame


@contextmanager
def opened(
    engine: Engine,
    settings: Settings,
    *,
    as_of: datetime,
    definition: ChurnDefinition | None,
    refresh: bool,
) -> Iterator[Opened]:
    """The mirror (refreshed first when asked) opened on a fresh DuckDB connection, closed
    afterwards, with the churn known at ``as_of``."""
    if refresh:
        refresh_mirror(engine, settings.mirror_dir)
    backend = ca.connect()
    try:
        tables = ca.open_mirror(settings.mirror_dir, backend)
        churns = churn_history(tables, as_of=as_of, definition=definition or ChurnDefinition())
        yield Opened(backend, tables, churns)
    finally:
        backend.disconnect()


def churned_on(
    history: pd.DataFrame, customer_ids: npt.NDArray[np.int64], moment: datetime
) -> npt.NDArray[np.bool_]:
    """Whether each customer is churned at ``moment`` as known then: an episode known by
    then that no return has ended by then."""
    at = np.datetime64(moment.replace(tzinfo=None), "us")
    away = history[
        (history["known_at"].to_numpy() <= at)
        & ~(history["won_back_at"].to_numpy() <= at)  # NaT compares False: still away
    ]
    return np.isin(customer_ids, away["customer_id"].to_numpy())


def evaluation_dates(start: datetime, end: datetime, step_days: int) -> list[datetime]:
    count = int((end - start) / timedelta(days=step_days)) + 1
    return [start + timedelta(days=step_days * n) for n in range(max(count, 0))]


def _naive(column: pd.Series) -> npt.NDArray[np.datetime64]:
    values = pd.to_datetime(column, utc=True).dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[us]")


@dataclass(frozen=True)
class Watched:
    """A customer on the health check's list, with his reasons in the reader's words."""

    customer_id: int
    name: str
    owner: str | None
    health: float
    risk_tier: str
    reasons: list[str]
    playbook: str | None
    alerts: list[str]  # "rule title: sentence" for each rule firing for him


@dataclass(frozen=True)
class Assessment:
    as_of: datetime
    customers: int
    tiers: dict[str, int]
    firing: dict[str, int]  # customers per rule key
    lowest: list[Watched]
    alerts: pa.Table  # one row per customer and firing rule (warning.alerts.ALERT_SCHEMA)


def assess_customers(
    engine: Engine,
    settings: Settings,
    pack: RulePack,
    *,
    as_of: datetime,
    lowest: int = 20,
    definition: ChurnDefinition | None = None,
    refresh: bool = True,
) -> Assessment:
    """Health, risk tier and firing rules of every customer active at ``as_of``: the tier
    counts, customers per rule, and the ``lowest`` healthiest-last customers with reasons."""
    with opened(engine, settings, as_of=as_of, definition=definition, refresh=refresh) as data:
        table = assessment_table(data.tables, as_of)
        frame = (
            table.join(rule_firings(pack, table), "customer_id")
            .join(health_scores(pack.health, table), "customer_id")
            .to_pyarrow()
        )
    active = ~churned_on(data.churns, frame.column("customer_id").to_numpy(), as_of)
    frame = frame.filter(pa.array(active))
    keys = [rule.key for rule in pack.enabled]
    tiers = pc.value_counts(frame.column("risk_tier")).to_pylist()
    firing = {key: int(pc.sum(frame.column(key).fill_null(False)).as_py() or 0) for key in keys}
    scored = frame.filter(pc.is_valid(frame.column("health")))
    worst = scored.take(pc.sort_indices(scored, [("health", "ascending")])[:lowest])
    alerts = rule_alerts(pack, frame)
    return Assessment(
        as_of=as_of,
        customers=frame.num_rows,
        tiers={str(t["values"]): int(t["counts"]) for t in tiers if t["values"] is not None},
        firing=firing,
        lowest=_watched(engine, pack, worst, alerts, settings.locale),
        alerts=alerts,
    )


def _watched(
    engine: Engine, pack: RulePack, rows: pa.Table, alerts: pa.Table, locale: str
) -> list[Watched]:
    sources = reason_sources(pack.health)
    chosen = top_reasons(rows, sources, pack.health.top_reasons)
    ids = rows.column("customer_id").to_pylist()
    names = customer_names(engine, ids)
    records = rows.to_pylist()  # the short list only: at most ``lowest`` rows
    theirs = alerts.filter(pc.is_in(alerts.column("customer_id"), pa.array(ids, pa.int64())))
    said: dict[int, list[str]] = {}
    for alert in theirs.to_pylist():
        rule = pack.rule(alert["rule"])
        sentence = alert_sentence(pack, rule.key, dict(alert["evidence"]), locale)
        said.setdefault(alert["customer_id"], []).append(f"{rule.title.label(locale)}：{sentence}")
    listed = []
    for record, picks in zip(records, chosen.tolist(), strict=True):
        reasons = [render(sources[i].sentence, record, locale) for i in picks if i >= 0]
        playbook = next((_playbook_for(pack, sources[i].reason) for i in picks if i >= 0), None)
        name, owner = names.get(record["customer_id"], (str(record["customer_id"]), None))
        listed.append(
            Watched(
                record["customer_id"],
                name,
                owner,
                record["health"],
                record["risk_tier"],
                reasons,
                playbook.title.label(locale) if playbook else None,
                said.get(record["customer_id"], []),
            )
        )
    return listed


def _playbook_for(pack: RulePack, reason: ReasonCode) -> Playbook | None:
    """The playbook of the first rule with this reason, else the first playbook for it."""
    for rule in pack.enabled:
        if rule.reason is reason:
            return pack.playbooks[rule.playbook]
    return next((p for p in pack.playbooks.values() if p.reason is reason), None)
