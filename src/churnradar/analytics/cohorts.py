"""Cohort retention (同期群留存): of the customers who started in a month, how many are still
customers at the end of each month after it.

A customer's cohort is the calendar month, in the company's time zone, of his first purchase
or first contract term, whichever came first (not his first-seen date: a lead who never
bought has no cohort). "Still a customer" uses the churn episodes as the customer flows
count them (:func:`~churnradar.analytics.flows.counted_episodes`) and the same instant
convention: at the end of a month means once all of the month has happened, just before the
next month begins.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis import _

from churnradar.analytics.churn import InactivityThreshold, first_activity, known_customers
from churnradar.analytics.flows import away, counted_episodes
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import Granularity, Period, check_as_of, periods_between
from churnradar.domain import ChurnDefinition

DEFAULT_TIMEZONE = "Asia/Shanghai"


def cohort_retention(
    tables: EventTables,
    *,
    as_of: datetime,
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
    first: Period | None = None,
    timezone: str | None = None,
) -> ir.Table:
    """Retention by first-purchase month, one row per cohort and month since it began.

    Columns: ``cohort`` (the month's label, 2026-03), ``cohort_start`` (its first instant,
    UTC), ``months_since`` (0 for the cohort's own month, then 1, 2, …), ``cohort_size``
    (customers whose first purchase or contract term fell in the cohort month),
    ``retained`` (those of them not away, inside a churn episode, at the end of the month
    ``months_since`` after the cohort month) and ``retention_rate`` (``retained /
    cohort_size``). Only months that ended by ``as_of`` have rows, so a cohort appears once
    its own month is over.

    ``first`` is the earliest cohort to show (a month); without it, the month of the
    earliest first purchase, found with one small query. Months are calendar months in
    ``timezone`` (give the configured one): ``first``'s when given, else Asia/Shanghai.
    """
    check_as_of(as_of)
    zone = _timezone(first, timezone)
    members = _first_activity(tables, as_of)
    if first is None:
        earliest = members.first_at.min().to_pyarrow().as_py()
        if earliest is not None:
            first = _month_of(earliest, zone)
    last = _month_of(as_of, zone).previous()
    months = _months([] if first is None else periods_between(first, last))
    cohorts = members.join(
        months,
        [members.first_at >= months.month_start, members.first_at < months.month_end],
    ).select("customer_id", cohort=_.month, cohort_start=_.month_start, cohort_index=_.index)
    later = months.view()
    observed = cohorts.join(later, cohorts.cohort_index <= later.index).select(
        "customer_id",
        "cohort",
        "cohort_start",
        months_since=_.index - _.cohort_index,
        month_end=_.month_end,
    )
    episodes = counted_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
    flagged = observed.left_join(
        episodes,
        [observed.customer_id == episodes.customer_id, away(episodes, observed.month_end)],
    )
    totals = flagged.group_by(["cohort", "cohort_start", "months_since"]).aggregate(
        cohort_size=flagged.customer_id.nunique(),
        retained=flagged.customer_id.nunique(where=flagged.churned_at.isnull()),
    )
    return totals.mutate(
        retention_rate=totals.retained.cast("float64") / totals.cohort_size
    ).order_by(["cohort_start", "months_since"])


def _first_activity(tables: EventTables, as_of: datetime) -> ir.Table:
    """``customer_id`` and ``first_at``, his first purchase or term start before ``as_of``,
    for the known customers who have one."""
    firsts = first_activity(tables, as_of)
    known = known_customers(tables, as_of)
    return firsts.join(known, firsts.customer_id == known.customer_id).select(
        "customer_id", "first_at"
    )


def _timezone(first: Period | None, timezone: str | None) -> str:
    if first is not None and first.granularity is not Granularity.MONTH:
        raise ValueError(f"cohorts are months; first={first.label} is not a month")
    if first is not None and timezone is not None and timezone != first.timezone:
        raise ValueError(f"first is a month in {first.timezone}, not in {timezone}")
    if first is not None:
        return first.timezone
    return timezone or DEFAULT_TIMEZONE


def _month_of(moment: datetime, timezone: str) -> Period:
    local = moment.astimezone(ZoneInfo(timezone)).date()
    return Period.containing(Granularity.MONTH, local, timezone)


def _months(months: list[Period]) -> ir.Table:
    """``index`` (0, 1, … from the first), ``month`` (label), ``month_start``, ``month_end``."""
    instants = pa.timestamp("us", tz="UTC")
    return ibis.memtable(
        pa.table(
            {
                "index": pa.array(range(len(months)), pa.int64()),
                "month": pa.array([month.label for month in months], pa.string()),
                "month_start": pa.array([month.start for month in months], instants),
                "month_end": pa.array([month.end for month in months], instants),
            }
        )
    )
