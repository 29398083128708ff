"""The period grid every per-period metric shares (flows, commerce, service).

A per-period metric is computed on a grid: every customer known before ``as_of`` in every
requested period (:func:`grid`), with the facts of each customer and period joined on, then
summed up per period and group of ``by`` (:func:`period_totals`) and laid out in period order
(:func:`ordered`). A row starts with :data:`PERIOD_COLUMNS`: ``period`` (its label: 2026-03,
2026-Q1 or 2026), ``period_start`` and ``period_end`` (the UTC instants ``[start, end)`` of
the calendar period in the company's time zone) and ``complete`` (false when the period ends
after ``as_of``); then the :class:`~churnradar.analytics.dimensions.Dimension` columns of
``by``, then the metrics. Facts are keyed by ``customer_id`` and the period's ``key`` (a
number of :func:`period_calendar`, not the label, which two periods in different time zones share).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir

from churnradar.analytics.churn import known_customers
from churnradar.analytics.dimensions import Dimension, customer_dimensions
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import TIMESTAMP, Period

# The average month (a year of 365.25 days over 12), turning the days a term ran into months:
# the same month for the CLV of a customer (analytics.commerce) and the CLV lost to churn
# (analytics.flows).
MONTH_DAYS = 365.25 / 12
PERIOD_COLUMNS = ("period", "period_start", "period_end", "complete")


def dimension_names(by: Sequence[Dimension]) -> list[str]:
    """The column names of the dimensions of ``by``; a dimension given twice is refused."""
    names = [Dimension(dimension).value for dimension in by]
    if len(set(names)) != len(names):
        raise ValueError(f"a dimension is repeated in by={names}")
    return names


def period_calendar(
    periods: Sequence[Period], as_of: datetime, *, with_previous: bool = False
) -> ir.Table:
    """One row per period of ``periods``, each once (and, ``with_previous``, of the period
    before each): the period columns, ``key`` (a number, the key of the grid),
    ``granularity``, ``previous_start`` and ``requested`` (the period is one of ``periods``,
    not only the one before)."""
    wanted = set(periods)
    if not wanted:
        raise ValueError("no periods given: periods is empty")
    rows = sorted({*wanted, *(period.previous() for period in wanted if with_previous)})
    return ibis.memtable(
        {
            "period": [period.label for period in rows],
            "period_start": [period.start for period in rows],
            "period_end": [period.end for period in rows],
            "complete": [period.end <= as_of for period in rows],
            "key": list(range(len(rows))),
            "granularity": [period.granularity.value for period in rows],
            "previous_start": [period.previous().start for period in rows],
            "requested": [period in wanted for period in rows],
        },
        schema={
            "period": "string",
            "period_start": TIMESTAMP,
            "period_end": TIMESTAMP,
            "complete": "boolean",
            "key": "int64",
            "granularity": "string",
            "previous_start": TIMESTAMP,
            "requested": "boolean",
        },
    )


def inside(moment: ir.TimestampValue, periods: ir.Table) -> ir.BooleanValue:
    """Whether ``moment`` falls in the period of a row of ``periods``."""
    return (moment >= periods.period_start) & (moment < periods.period_end)


def in_periods(events: ir.Table, column: str, calendar: ir.Table) -> ir.Table:
    """``events`` with the period of ``calendar`` their ``column`` falls in (an event in two
    of the periods, a month and its quarter, is there twice; in none, not at all)."""
    return events.join(calendar, inside(events[column], calendar))


def with_dimensions(
    table: ir.Table, tables: EventTables, as_of: datetime, names: Sequence[str]
) -> ir.Table:
    """``table`` (of known customers, with ``customer_id``) and the dimension columns
    ``names`` of each customer."""
    if not names:
        return table
    dimensions = customer_dimensions(tables, as_of).select("customer_id", *names)
    joined = table.join(dimensions, table.customer_id == dimensions.customer_id)
    return joined.select(*table.columns, *names)


def grid(
    tables: EventTables,
    as_of: datetime,
    calendar: ir.Table,
    names: Sequence[str],
    *facts: ir.Table,
) -> ir.Table:
    """Every customer known before ``as_of`` in every period of ``calendar``, with his
    ``since``, the dimension columns ``names`` and the columns of ``facts`` (each keyed by
    ``customer_id`` and ``key``; null where a fact table has no row). Customers who arrive
    later are rows too, so every group has every period; the counts look at ``since``."""
    known = with_dimensions(known_customers(tables, as_of), tables, as_of, names)
    rows = known.cross_join(calendar)
    for fact in facts:
        joined = rows.left_join(fact, [rows.customer_id == fact.customer_id, rows.key == fact.key])
        rows = joined.select(
            *rows.columns, *(column for column in fact.columns if column not in rows.columns)
        )
    return rows


def period_totals(
    rows: ir.Table, calendar: ir.Table, names: Sequence[str], **metrics: ir.Value
) -> ir.Table:
    """``metrics`` aggregated per period and group, led by the columns of ``calendar``.
    Without ``names`` every period has its row, even while no customer is known (its counts
    and sums 0)."""
    summed = rows.group_by(["key", *names]).aggregate(**metrics)
    if names:
        return summed.join(calendar, "key").select(*calendar.columns, *names, *metrics)
    joined = calendar.left_join(summed, "key")
    return joined.select(*calendar.columns, **{name: joined[name].fill_null(0) for name in metrics})


def ordered(table: ir.Table, names: Sequence[str], metrics: Sequence[str]) -> ir.Table:
    """The period columns, ``names`` and ``metrics`` of ``table``, in period order."""
    return table.select(*PERIOD_COLUMNS, *names, *metrics).order_by(
        ["period_start", "period_end", *names]
    )


def share(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator``, null when the denominator is 0."""
    return ibis.cases(
        (denominator > 0, numerator.cast("float64") / denominator), else_=ibis.null("float64")
    )
