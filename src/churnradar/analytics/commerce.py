"""What customers buy and pay: repurchase, revenue retention and customer value.

Per-period metrics return one row per period (and per group of ``by``), in period order,
laid out like the churn rates:

- ``period`` (its label: 2026-03, 2026-Q1 or 2026), ``period_start`` and ``period_end`` (the
  UTC instants ``[start, end)`` of the calendar period in the company's time zone), and
  ``complete``: false when the period ends after ``as_of``; its figures are then the period
  so far and may still change;
- the :class:`~churnradar.analytics.dimensions.Dimension` columns of ``by``, with a row for
  every combination held by a customer known before ``as_of`` (zeros where nothing
  happened); without ``by``, one row per period, even while no customer is known;
- the metric columns, named by the slugs of ``domain.metrics``.

Only what happened before ``as_of`` counts. Money is summed exactly and returned as
``float64``, in the company's currency (amounts in other currencies are not converted).
Definitions, with the choices behind them, are in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir
from ibis import _

from churnradar.analytics.churn import known_customers, purchases
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.periods import (
    MONTH_DAYS,
    dimension_names,
    grid,
    ordered,
    period_calendar,
    period_totals,
    share,
    with_dimensions,
)
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import DAY_SECONDS, TIMESTAMP, Period, check_as_of, instant, seconds

_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def repurchase(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    by: Sequence[Dimension] = (),
    lookback_days: int = 365,
) -> ir.Table:
    """Repurchase and repurchase churn (复购率, 复购流失率) per period.

    Columns after the period and ``by`` columns:

    - ``previous_buyers``: customers with a purchase in the ``lookback_days`` before the
      period starts (老客户); cancelled and refunded orders are not purchases;
    - ``repurchasers``: those of them with a purchase within the period;
    - ``repurchase_rate``: ``repurchasers / previous_buyers``;
    - ``repurchase_churn_rate``: ``1 - repurchase_rate``, the previous buyers who did not
      buy again; both rates are null when there are no previous buyers.
    """
    check_as_of(as_of)
    if lookback_days <= 0:
        raise ValueError(f"lookback_days must be > 0, got {lookback_days}")
    names = dimension_names(by)
    calendar = period_calendar(periods, as_of)
    bought = purchases(tables, as_of)
    pairs = bought.join(
        calendar,
        [
            bought.ordered_at < calendar.period_end,
            seconds(bought.ordered_at)
            >= seconds(calendar.period_start) - lookback_days * DAY_SECONDS,
        ],
    )
    earlier = pairs.ordered_at < pairs.period_start
    facts = pairs.group_by(["customer_id", "key"]).aggregate(
        is_previous=pairs.count(where=earlier) > 0,
        is_repeat=pairs.count(where=~earlier) > 0,
    )
    rows = grid(tables, as_of, calendar, names, facts)
    totals = period_totals(
        rows,
        calendar,
        names,
        previous_buyers=rows.count(where=rows.is_previous),
        repurchasers=rows.count(where=rows.is_previous & rows.is_repeat),
    )
    rate = share(totals.repurchasers, totals.previous_buyers)
    return ordered(
        totals.mutate(repurchase_rate=rate, repurchase_churn_rate=1 - rate),
        names,
        ["previous_buyers", "repurchasers", "repurchase_rate", "repurchase_churn_rate"],
    )


def revenue_retention(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """Revenue churn and retention of contract customers (收入流失率, GRR, NRR) per period.

    A customer's MRR at an instant is the sum of the ``mrr`` of his terms in force then (see
    :func:`term_spans`). The period is measured from its start to its end, or to ``as_of``
    for a period not yet complete. Columns after the period and ``by`` columns:

    - ``mrr_at_start``: MRR at the start, of every customer;
    - of the customers with MRR at the start (new customers' MRR is in none of these):
      ``mrr_churned`` (their MRR at the start when they have none at the end),
      ``mrr_contraction`` (start minus end, when the end is lower but not 0),
      ``mrr_expansion`` (end minus start, when the end is higher);
    - ``revenue_churn_rate``: ``(churned + contraction) / mrr_at_start``;
    - ``grr``: ``(mrr_at_start - churned - contraction) / mrr_at_start``;
    - ``nrr``: ``(mrr_at_start - churned - contraction + expansion) / mrr_at_start``;
      the three rates are null when there is no MRR at the start.
    """
    check_as_of(as_of)
    names = dimension_names(by)
    moment = instant(as_of)
    spans = term_spans(tables, as_of)
    calendar = period_calendar(periods, as_of)
    instants = calendar.mutate(
        start_at=ibis.least(calendar.period_start, moment),
        end_at=ibis.least(calendar.period_end, moment),
    )
    pairs = spans.join(
        instants,
        [
            spans.started_at <= instants.end_at,
            spans.stopped_at.isnull() | (spans.stopped_at > instants.start_at),
        ],
    )
    facts = pairs.group_by(["customer_id", "key"]).aggregate(
        mrr_start=pairs.mrr.sum(where=_in_force(pairs, pairs.start_at)),
        mrr_end=pairs.mrr.sum(where=_in_force(pairs, pairs.end_at)),
    )
    rows = grid(tables, as_of, calendar, names, facts)
    start, end = rows.mrr_start.fill_null(0), rows.mrr_end.fill_null(0)
    held = start > 0
    totals = period_totals(
        rows,
        calendar,
        names,
        mrr_at_start=start.sum(),
        mrr_churned=start.sum(where=held & (end == 0)),
        mrr_contraction=(start - end).sum(where=held & (end > 0) & (end < start)),
        mrr_expansion=(end - start).sum(where=held & (end > start)),
    )
    money = {
        name: totals[name].fill_null(0).cast("float64")
        for name in ("mrr_at_start", "mrr_churned", "mrr_contraction", "mrr_expansion")
    }
    lost = money["mrr_churned"] + money["mrr_contraction"]
    kept = money["mrr_at_start"] - lost
    rated = totals.mutate(
        **money,
        revenue_churn_rate=share(lost, money["mrr_at_start"]),
        grr=share(kept, money["mrr_at_start"]),
        nrr=share(kept + money["mrr_expansion"], money["mrr_at_start"]),
    )
    return ordered(rated, names, [*money, "revenue_churn_rate", "grr", "nrr"])


def term_spans(tables: EventTables, as_of: datetime) -> ir.Table:
    """The contract terms started before ``as_of``, with when each counted.

    Columns: ``customer_id``, ``mrr``, ``started_at`` and ``stopped_at``: the first instant
    the term no longer counted, the earliest of its end, its cancellation (if made before
    ``as_of``) and the start of its renewal (a term that names it in ``renewed_from``, if
    started before ``as_of``); null while none of these is set. A term is in force at ``t``
    when ``started_at <= t < stopped_at``, so a renewal starting the instant its predecessor
    ends takes over with no overlap and no gap, and an early renewal or an upgrade written as
    a renewal does not count twice.
    """
    moment = instant(as_of)
    terms = tables.subscriptions.filter(_.started_at < moment)
    renewals = (
        terms.filter(_.renewed_from.notnull())
        .group_by(term_id=_.renewed_from)
        .aggregate(renewed_at=_.started_at.min())
    )
    joined = terms.left_join(renewals, terms.id == renewals.term_id)
    never = instant(_NEVER)
    cancelled = ibis.cases(
        (joined.cancelled_at < moment, joined.cancelled_at), else_=ibis.null(TIMESTAMP)
    )
    stopped = ibis.least(
        joined.ends_at.fill_null(never),
        cancelled.fill_null(never),
        joined.renewed_at.fill_null(never),
    )
    spans = joined.select(
        customer_id=joined.customer_id,
        mrr=joined.mrr,
        started_at=joined.started_at,
        stopped_at=ibis.cases((stopped < never, stopped), else_=ibis.null(TIMESTAMP)),
    )
    # In Ibis a selection from a join is still that join, and a further join on its computed
    # columns fails; as a table of its own it joins like any other.
    return spans.view()


def customer_value(tables: EventTables, *, as_of: datetime) -> ir.Table:
    """What each customer known before ``as_of`` has been worth so far (客户生命周期价值).

    Columns: ``customer_id``; ``purchases`` (orders before ``as_of`` that are purchases);
    ``revenue`` (their amount); ``average_order_value`` (客单价, ``revenue / purchases``,
    null without purchases); ``contract_revenue`` (the sum over his contract terms of
    ``mrr`` times the months the term was in force before ``as_of``, a month being
    ``MONTH_DAYS`` days); ``clv``: simple CLV, ``average_order_value * purchases`` plus
    ``contract_revenue``.
    """
    check_as_of(as_of)
    moment = instant(as_of)
    bought = purchases(tables, as_of)
    orders = bought.group_by("customer_id").aggregate(
        purchases=bought.count(), revenue=bought.amount.sum().cast("float64")
    )
    spans = term_spans(tables, as_of)
    until = ibis.least(spans.stopped_at.fill_null(moment), moment)
    ran_days = (seconds(until) - seconds(spans.started_at)) / DAY_SECONDS
    months = ibis.greatest(ran_days, 0) / MONTH_DAYS
    contracts = spans.group_by("customer_id").aggregate(
        contract_revenue=(spans.mrr.cast("float64") * months).sum()
    )
    known = known_customers(tables, as_of)
    rows = (
        known.left_join(orders, "customer_id")
        .drop("customer_id_right")
        .left_join(contracts, "customer_id")
        .drop("customer_id_right")
    )
    count = rows.purchases.fill_null(0)
    average = share(rows.revenue, count)
    contract_revenue = rows.contract_revenue.fill_null(0)
    return rows.select(
        "customer_id",
        purchases=count,
        revenue=rows.revenue.fill_null(0),
        average_order_value=average,
        contract_revenue=contract_revenue,
        clv=(average * count).fill_null(0) + contract_revenue,
    )


def clv_summary(tables: EventTables, *, as_of: datetime, by: Sequence[Dimension] = ()) -> ir.Table:
    """The simple CLV of :func:`customer_value`, summed up per group of ``by``.

    Columns: the ``by`` columns; ``customers`` (known before ``as_of``), ``clv_mean``,
    ``clv_median`` and ``clv_total`` of their ``clv``.
    """
    names = dimension_names(by)
    rows = with_dimensions(customer_value(tables, as_of=as_of), tables, as_of, names)
    summary = rows.aggregate(
        by=names,
        customers=rows.count(),
        clv_mean=rows.clv.mean(),
        clv_median=rows.clv.median(),
        clv_total=rows.clv.sum().fill_null(0),
    )
    return summary.order_by(names) if names else summary


def _in_force(spans: ir.Table, at: ir.TimestampValue) -> ir.BooleanValue:
    return (spans.started_at <= at) & (spans.stopped_at.isnull() | (at < spans.stopped_at))
