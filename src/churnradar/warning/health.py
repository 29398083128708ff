"""The health score (健康度评分) 0-100 and the risk tier, as Ibis expressions, and each
customer's top reasons.

Weighted model: each signal maps its feature linearly from ``good`` (100) to ``bad`` (0),
clipped; a component is the weighted mean of its measured signals, the score the weighted
mean of the measured components (a missing feature is left out, not counted as good or bad).
Points model (the seeds' 下单+5、主动联系+3、投诉-10): ``base`` plus points per unit of
each counted feature, clipped to 0-100.

A reason is a signal that costs the customer points: its *loss* is the points of the score it
takes away (weighted model: the component's and the signal's share of the weights times
100 minus the signal's score; points model: the points an item subtracts).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from churnradar.domain import ReasonCode, RiskTier
from churnradar.warning.spec import Health, HealthModel, Sentence, Signal, TierCuts


@dataclass(frozen=True)
class ReasonSource:
    """One column of losses: which feature, which reason code, which sentence."""

    column: str
    feature: str
    reason: ReasonCode
    sentence: Sentence


def health_scores(health: Health, table: ir.Table) -> ir.Table:
    """``customer_id``, ``health``, ``health_<component>`` (weighted model), ``risk_tier``
    and one ``loss_<n>`` column per reason source (see :func:`reason_sources`).

    Computed in steps (signal scores, then components, then the score), each step reading
    the columns of the one before: written as one expression, every signal's formula would be
    repeated in each component, the score and its loss (170 KB of SQL for the default pack)."""
    if health.model is HealthModel.POINTS:
        return _points(health, table)
    return _weighted(health, table)


def reason_sources(health: Health) -> list[ReasonSource]:
    if health.model is HealthModel.POINTS:
        return [
            ReasonSource(f"loss_{n}", item.feature, item.reason, item.sentence)
            for n, item in enumerate(health.points.items)
        ]
    signals = [signal for component in health.components for signal in component.signals]
    return [
        ReasonSource(f"loss_{n}", signal.feature, signal.reason, signal.sentence)
        for n, signal in enumerate(signals)
    ]


def risk_tier(score: ir.FloatingValue, tiers: TierCuts) -> ir.StringValue:
    return ibis.cases(
        *((score < cut, ibis.literal(tier.value)) for tier, cut in tiers.tier_order()),
        else_=ibis.cases(
            (score.notnull(), ibis.literal(RiskTier.LOW.value)), else_=ibis.null("string")
        ),
    )


def top_reasons(losses: pa.Table, sources: list[ReasonSource], k: int) -> npt.NDArray[np.int64]:
    """Per row of ``losses`` (the ``loss_<n>`` columns of :func:`health_scores`), the indices
    into ``sources`` of the ``k`` largest positive losses, largest first; -1 fills the rest."""
    if not sources or losses.num_rows == 0:
        return np.full((losses.num_rows, k), -1, dtype=np.int64)
    matrix = np.column_stack(
        [losses.column(s.column).to_numpy(zero_copy_only=False) for s in sources]
    ).astype(np.float64)
    matrix = np.nan_to_num(matrix, nan=0.0)
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(matrix, order, axis=1)
    order[chosen <= 0] = -1
    if order.shape[1] < k:
        order = np.pad(order, ((0, 0), (0, k - order.shape[1])), constant_values=-1)
    return order


def _signal_score(signal: Signal, table: ir.Table) -> ir.FloatingValue:
    scaled = (table[signal.feature].cast("float64") - signal.bad) / (signal.good - signal.bad) * 100
    # cases, not least/greatest: those skip nulls on DuckDB, and a missing feature must stay
    # missing (left out of its component), not score 100
    return ibis.cases((scaled > 100, 100.0), (scaled < 0, 0.0), else_=scaled)


def _weighted_mean(
    pairs: list[tuple[float, ir.FloatingValue]],
) -> ir.FloatingValue:
    """Mean of the values that are present, by weight; null when none is."""
    total = sum(((value * weight).fill_null(0) for weight, value in pairs), ibis.literal(0.0))
    weights = sum(
        (value.notnull().cast("float64") * weight for weight, value in pairs), ibis.literal(0.0)
    )
    return ibis.cases((weights > 0, total / weights), else_=ibis.null("float64"))


def _weighted(health: Health, table: ir.Table) -> ir.Table:
    signals = [(c, signal) for c in health.components for signal in c.signals]
    scored = table.select(
        "customer_id",
        **{f"signal_{n}": _signal_score(signal, table) for n, (_, signal) in enumerate(signals)},
    )
    total_weight = sum(component.weight for component in health.components)
    parts: dict[str, ir.FloatingValue] = {}
    losses: dict[str, ir.FloatingValue] = {}
    n = 0
    for component in health.components:
        scores = [
            (signal.weight, scored[f"signal_{n + i}"]) for i, signal in enumerate(component.signals)
        ]
        parts[f"health_{component.key}"] = _weighted_mean(scores)
        signal_weight = sum(signal.weight for signal in component.signals)
        for weight, score in scores:
            share = component.weight / total_weight * weight / signal_weight
            losses[f"loss_{n}"] = (100.0 - score) * share
            n += 1
    combined = scored.select("customer_id", **parts, **losses)
    score = _weighted_mean([(c.weight, combined[f"health_{c.key}"]) for c in health.components])
    return combined.select(
        "customer_id",
        health=score,
        **{name: combined[name] for name in parts},
        risk_tier=risk_tier(score, health.tiers),
        **{name: combined[name] for name in losses},
    )


def _points(health: Health, table: ir.Table) -> ir.Table:
    contributions = []
    for item in health.points.items:
        units = table[item.feature].cast("float64").fill_null(0)
        if item.cap is not None:
            units = ibis.least(units, item.cap)
        contributions.append(units * item.points)
    raw = sum(contributions, ibis.literal(health.points.base))
    # raw is never null: least/greatest are safe here
    score = ibis.greatest(ibis.least(raw, 100.0), 0.0)
    return table.select(
        "customer_id",
        health=score,
        risk_tier=risk_tier(score, health.tiers),
        **{f"loss_{n}": -c for n, c in enumerate(contributions)},
    )
