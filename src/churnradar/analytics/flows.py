"""Customer flows per period (客户流动): the customers a period started with, gained, lost and
won back, the churn rate, how and why they left, and what leaving cost.

The conventions every function here shares (docs/metrics.md, "Customer flow"):

- A customer counts from ``since`` (:func:`~churnradar.analytics.churn.known_customers`) and
  is away during each of his churn episodes, ``[churned_at, won_back_at)``. An episode that
  began before ``since`` counts from ``since``; one that was over by then is ignored.
- The state *at* an instant is the state just before it: a customer who churns at the very
  first instant of a period was a customer at its start and churned in it. This is what
  makes ``customers_at_end = customers_at_start + new + won_back − churned`` hold exactly.
- Only what happened before ``as_of`` counts. Every row starts with ``period`` (its label:
  2026-03, 2026-Q1 or 2026), ``period_start`` and ``period_end`` (UTC instants of the local
  calendar period) and ``complete`` (false when the period ends after ``as_of``: its flows
  so far, and at its end the state at ``as_of``). A churn found late (a lapse is known once
  the grace has passed) is dated when it happened, so a recent period can still move.
- Breakdowns (``by``) use today's attributes of each customer
  (:func:`~churnradar.analytics.dimensions.customer_dimensions`), one column each; every
  combination held by a customer known before ``as_of`` has a row for every period (zeros
  included); without ``by``, every period has its row, even in a company without customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir
from ibis import _

from churnradar.analytics.churn import (
    InactivityThreshold,
    churn_episodes,
    known_customers,
    purchases,
)
from churnradar.analytics.commerce import term_spans
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.periods import (
    MONTH_DAYS,
    PERIOD_COLUMNS,
    dimension_names,
    grid,
    in_periods,
    inside,
    ordered,
    period_calendar,
    period_totals,
    share,
    with_dimensions,
)
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import DAY_SECONDS, Period, check_as_of, seconds
from churnradar.domain import ChurnDefinition, ChurnType

CHURNED_BY_TYPE = {
    "churned_active": ChurnType.ACTIVE,
    "churned_passive": ChurnType.PASSIVE,
    "churned_hidden": ChurnType.HIDDEN,
}


def churn_rates(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """Customer flows and the churn rate (客户流失率), one row per period and group.

    Columns: the period columns, the ``by`` dimensions, and

    - ``customers_at_start``: customers since before the start and not away at the start;
    - ``new_customers``: customers whose ``since`` falls in the period;
    - ``churned_customers``: churn episodes that began in the period (a customer who churns,
      comes back and churns again within one period counts twice), split by type into
      ``churned_active``, ``churned_passive`` and ``churned_hidden``;
    - ``won_back_customers``: episodes that ended in the period (the customer came back);
    - ``customers_at_end``: customers at the end, counted like those at the start; always
      ``customers_at_start + new_customers + won_back_customers − churned_customers``;
    - ``churn_rate``: ``churned_customers / customers_at_start``, null when the period began
      without customers. New customers who churn within the period count among the
      churned, so the rate can in principle exceed 1;
    - ``churn_rate_change``: ``churn_rate`` minus the rate of the period just before (month
      over month for months), in the same group; null when either rate is null.

    Each period is measured on its own: granularities may be mixed, and order and
    repetitions in ``periods`` do not matter.
    """
    check_as_of(as_of)
    names = dimension_names(by)
    calendar = period_calendar(periods, as_of, with_previous=True)
    episodes = counted_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
    touching = episodes.join(
        calendar,
        [
            episodes.churned_at < calendar.period_end,
            episodes.won_back_at.isnull() | (episodes.won_back_at >= calendar.period_start),
        ],
    )
    churned = inside(touching.churned_at, touching)
    flags = touching.group_by(["customer_id", "key"]).aggregate(
        away_at_start=away(touching, touching.period_start).max(),
        away_at_end=away(touching, touching.period_end).max(),
        churned_customers=touching.count(where=churned),
        won_back_customers=touching.count(where=inside(touching.won_back_at, touching)),
        **{
            column: touching.count(where=churned & (touching.churn_type == kind.value))
            for column, kind in CHURNED_BY_TYPE.items()
        },
    )
    rows = grid(tables, as_of, calendar, names, flags)
    known_at_end = rows.since < rows.period_end
    flows = ("churned_customers", *CHURNED_BY_TYPE, "won_back_customers")
    counts = ["customers_at_start", "new_customers", *flows, "customers_at_end"]
    totals = period_totals(
        rows,
        calendar,
        names,
        customers_at_start=rows.count(
            where=(rows.since < rows.period_start) & ~rows.away_at_start.fill_null(False)
        ),
        new_customers=rows.count(where=(rows.since >= rows.period_start) & known_at_end),
        customers_at_end=rows.count(where=known_at_end & ~rows.away_at_end.fill_null(False)),
        **{column: rows[column].fill_null(0).sum() for column in flows},
    )
    rated = totals.mutate(churn_rate=share(totals.churned_customers, totals.customers_at_start))
    before = ibis.window(group_by=["granularity", *names], order_by=rated.period_start)
    follows = rated.period_start.lag().over(before) == rated.previous_start
    changed = rated.mutate(
        churn_rate_change=ibis.cases(
            (follows, rated.churn_rate - rated.churn_rate.lag().over(before)),
            else_=ibis.null("float64"),
        )
    ).filter(_.requested)
    return ordered(changed, names, [*counts, "churn_rate", "churn_rate_change"])


def churn_reasons(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """Churn by reason (流失原因) and type, one row per period, group, reason and type that
    occurred (no rows of zeros).

    Columns: the period columns, the ``by`` dimensions, ``churn_reason`` and ``churn_type``
    (the domain codes), and ``churned_customers``: the churn episodes that began in the
    period with that reason and type. Per period and group they add up to
    ``churned_customers`` of :func:`churn_rates`.
    """
    check_as_of(as_of)
    names = dimension_names(by)
    episodes = with_dimensions(
        counted_episodes(tables, as_of=as_of, definition=definition, threshold=threshold),
        tables,
        as_of,
        names,
    )
    churned = in_periods(episodes, "churned_at", period_calendar(periods, as_of))
    keys = [*PERIOD_COLUMNS, *names, "churn_reason", "churn_type"]
    return (
        churned.group_by(keys)
        .aggregate(churned_customers=churned.count())
        .order_by(["period_start", "period_end", *names, "churn_reason", "churn_type"])
    )


def churn_losses(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """What the churn of each period cost (流失损失), one row per period and group.

    Columns: the period columns, the ``by`` dimensions, ``churned_customers`` (as in
    :func:`churn_rates`) and, summed over those churn episodes, as float64 in the currency
    of the amounts (they are added as given, not converted):

    - ``revenue_lost``: the trailing twelve months' revenue before the churn: purchases in
      ``[churned_at − 365 days, churned_at)`` plus 12 × the MRR of the contract terms in
      force just before ``churned_at`` (several terms at once add up);
    - ``clv_lost``: the simple CLV (客户生命周期价值) of the customer at the churn: average
      order value × number of purchases, that is all purchase revenue before
      ``churned_at``, plus contract revenue to date, the sum over his terms of MRR × the
      months each was in force before ``churned_at`` (a month is ``MONTH_DAYS`` days).

    Purchases are :func:`~churnradar.analytics.churn.purchases` (a cancelled or refunded
    order never counts); a term is in force from its start until the earliest of its end,
    its cancellation and the start of the term renewing it
    (:func:`~churnradar.analytics.commerce.term_spans`).
    """
    check_as_of(as_of)
    names = dimension_names(by)
    calendar = period_calendar(periods, as_of)
    episodes = episode_losses(
        tables,
        as_of=as_of,
        episodes=counted_episodes(tables, as_of=as_of, definition=definition, threshold=threshold),
    )
    churned = in_periods(episodes, "churned_at", calendar)
    lost = churned.group_by(["customer_id", "key"]).aggregate(
        churned_customers=churned.count(),
        revenue_lost=churned.revenue_lost.sum(),
        clv_lost=churned.clv_lost.sum(),
    )
    rows = grid(tables, as_of, calendar, names, lost)
    metrics = ["churned_customers", "revenue_lost", "clv_lost"]
    totals = period_totals(
        rows, calendar, names, **{metric: rows[metric].fill_null(0).sum() for metric in metrics}
    )
    return ordered(totals, names, metrics)


def episode_losses(tables: EventTables, *, as_of: datetime, episodes: ir.Table) -> ir.Table:
    """``episodes`` (one row per churn, with ``customer_id`` and ``churned_at``) with the
    ``revenue_lost`` and ``clv_lost`` of each, as defined in :func:`churn_losses`."""
    keys = episodes.select("customer_id", "churned_at").distinct()
    bought = purchases(tables, as_of)
    paid = keys.join(
        bought, [keys.customer_id == bought.customer_id, bought.ordered_at < keys.churned_at]
    )
    recent = seconds(paid.ordered_at) >= seconds(paid.churned_at) - 365 * DAY_SECONDS
    purchased = paid.group_by(["customer_id", "churned_at"]).aggregate(
        revenue_12m=paid.amount.sum(where=recent).cast("float64"),
        purchase_revenue=paid.amount.sum().cast("float64"),
    )
    terms = term_spans(tables, as_of)
    held = keys.join(
        terms, [keys.customer_id == terms.customer_id, terms.started_at < keys.churned_at]
    )
    in_force = held.stopped_at.isnull() | (held.stopped_at >= held.churned_at)
    until = ibis.cases((in_force, held.churned_at), else_=held.stopped_at)
    months = (seconds(until) - seconds(held.started_at)) / (MONTH_DAYS * DAY_SECONDS)
    mrr = held.mrr.cast("float64")
    contracted = held.group_by(["customer_id", "churned_at"]).aggregate(
        mrr_in_force=mrr.sum(where=in_force),
        contract_revenue=(mrr * ibis.greatest(months, 0)).sum(),
    )
    joined = episodes
    for part in (purchased, contracted):
        joined = joined.left_join(
            part,
            [joined.customer_id == part.customer_id, joined.churned_at == part.churned_at],
        )
    return joined.select(
        *episodes.columns,
        revenue_lost=joined.revenue_12m.fill_null(0) + 12 * joined.mrr_in_force.fill_null(0),
        clv_lost=joined.purchase_revenue.fill_null(0) + joined.contract_revenue.fill_null(0),
    )


def counted_episodes(
    tables: EventTables,
    *,
    as_of: datetime,
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
) -> ir.Table:
    """The churn episodes of known customers as the flows count them: one that began before
    the customer's ``since`` begins at ``since``, one over by then is left out.

    Columns: ``customer_id``, ``churned_at``, ``churn_type``, ``churn_reason``, ``evidence``,
    ``won_back_at`` (null while the customer stays away).
    """
    episodes = churn_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
    known = known_customers(tables, as_of)
    joined = episodes.join(known, episodes.customer_id == known.customer_id)
    return joined.filter(joined.won_back_at.isnull() | (joined.won_back_at > joined.since)).select(
        "customer_id",
        churned_at=ibis.greatest(joined.churned_at, joined.since),
        churn_type=joined.churn_type,
        churn_reason=joined.churn_reason,
        evidence=joined.evidence,
        won_back_at=joined.won_back_at,
    )


def away(episodes: ir.Table, moment: ir.TimestampValue) -> ir.BooleanValue:
    """Whether an episode holds its customer away just before ``moment``."""
    return (episodes.churned_at < moment) & (
        episodes.won_back_at.isnull() | (episodes.won_back_at >= moment)
    )
