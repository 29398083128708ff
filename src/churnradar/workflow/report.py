"""The monthly churn report: the month's figures, its trend and where churn comes from.

``monthly_report`` refreshes the mirror, measures with the analytics layer and returns plain
rows per section, which the CLI prints as text or JSON and the web app will render. Every
figure reads only what was recorded before ``as_of`` (default: now).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy import Engine, select

import churnradar.analytics as ca
from churnradar.analytics.cohorts import cohort_retention
from churnradar.analytics.commerce import repurchase, revenue_retention
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.flows import churn_losses, churn_rates, churn_reasons
from churnradar.analytics.service import satisfaction, service_levels
from churnradar.config import Settings
from churnradar.domain import ChurnDefinition
from churnradar.errors import InvalidInput
from churnradar.store.mirror import refresh_mirror
from churnradar.store.tables import User

DEFAULT_BREAKDOWN: tuple[Dimension, ...] = (
    Dimension.SEGMENT,
    Dimension.REGION,
    Dimension.INDUSTRY,
    Dimension.PRODUCT_LINE,
    Dimension.OWNER,
    Dimension.CHANNEL,
    Dimension.TIER,
)
TREND_MONTHS = 12
COHORT_MONTHS = 12

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class MonthlyReport:
    """``sections`` maps a section name to its rows (plain values: str, int, float, None)."""

    month: ca.Period
    as_of: datetime
    threshold: ca.InactivityThreshold
    definition: ChurnDefinition
    sections: dict[str, Rows] = field(default_factory=dict)


def parse_month(text: str, timezone: str) -> ca.Period:
    try:
        period = ca.Period.parse(text, timezone)
    except ValueError:
        period = None
    if period is None or period.granularity is not ca.Granularity.MONTH:
        raise InvalidInput("report.bad_month", value=text)
    return period


def monthly_report(
    engine: Engine,
    settings: Settings,
    *,
    month: str,
    as_of: datetime | None = None,
    by: Sequence[Dimension] = DEFAULT_BREAKDOWN,
    definition: ChurnDefinition | None = None,
    refresh: bool = True,
) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM``, a calendar month in the configured time zone)."""
    period = parse_month(month, settings.timezone)
    as_of = as_of or datetime.now(UTC)
    if period.start >= as_of:
        raise InvalidInput("report.future_month", month=period.label)
    definition = definition or ChurnDefinition()
    if refresh:
        refresh_mirror(engine, settings.mirror_dir)
    tables = ca.open_mirror(settings.mirror_dir)
    threshold = ca.inactivity_threshold(tables, as_of=as_of, definition=definition)
    quarter = ca.Period.containing(ca.Granularity.QUARTER, period.first, settings.timezone)
    year = ca.Period.containing(ca.Granularity.YEAR, period.first, settings.timezone)
    trend = ca.periods_between(_months_back(period, TREND_MONTHS - 1), period)
    owners = _owner_names(engine)

    def rows(expression: ir.Table) -> Rows:
        return _rows(expression.to_pyarrow(), owners)

    measured: dict[str, Any] = {"as_of": as_of, "definition": definition, "threshold": threshold}
    rates = partial(churn_rates, tables, **measured)
    sections: dict[str, Rows] = {
        "churn": _in_order(rows(rates(periods=[period, quarter, year])), [period, quarter, year]),
        "trend": rows(rates(periods=trend)),
        "reasons": rows(partial(churn_reasons, tables, **measured)(periods=[period])),
        "losses": rows(partial(churn_losses, tables, **measured)(periods=[period])),
        "repurchase": rows(repurchase(tables, as_of=as_of, periods=[period])),
        "revenue": rows(revenue_retention(tables, as_of=as_of, periods=[period])),
        "satisfaction": rows(satisfaction(tables, as_of=as_of, periods=[period])),
        "service": rows(partial(service_levels, tables, **measured)(periods=[period])),
    }
    for dimension in by:
        sections[f"by_{dimension.value}"] = rows(rates(periods=[period], by=[dimension]))
    first_cohort = _months_back(period, COHORT_MONTHS - 1)
    sections["cohorts"] = rows(
        partial(cohort_retention, tables, **measured)(
            first=first_cohort, timezone=settings.timezone
        )
    )
    return MonthlyReport(period, as_of, threshold, definition, sections)


def _in_order(found: Rows, periods: Sequence[ca.Period]) -> Rows:
    """The rows of ``periods`` in that order: the month, then its quarter, then its year."""
    rank = {period.label: position for position, period in enumerate(periods)}
    return sorted(found, key=lambda row: rank.get(row["period"], len(rank)))


def _months_back(period: ca.Period, months: int) -> ca.Period:
    for _ in range(months):
        period = period.previous()
    return period


def _owner_names(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {
            str(user_id): name
            for user_id, name in connection.execute(select(User.id, User.display_name))
        }


_PLAIN: dict[type, Callable[[Any], Any]] = {
    Decimal: float,
    datetime: lambda value: value.isoformat(),
    date: lambda value: value.isoformat(),
}


def _rows(table: pa.Table, owners: dict[str, str]) -> Rows:
    """Arrow rows as plain values; an owner id becomes the owner's name."""
    result = []
    for row in table.to_pylist():
        plain = {
            key: _PLAIN.get(type(value), lambda value: value)(value) for key, value in row.items()
        }
        if plain.get("owner_id") is not None:
            plain["owner_id"] = owners.get(plain["owner_id"], plain["owner_id"])
        result.append(plain)
    return result
