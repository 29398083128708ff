"""Instants and calendar periods for the analytics expressions.

Every ``as_of`` is an aware datetime; the expressions compare UTC timestamps. Periods (months,
quarters, years) are calendar periods in the company's time zone, because "this month" is
the month on the office wall, and each becomes a pair of UTC instants ``[start, end)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

DAY_SECONDS = 86_400
TIMESTAMP = dt.Timestamp(timezone="UTC", scale=6)


def check_as_of(as_of: datetime) -> None:
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError(f"as_of must be an aware datetime, got {as_of!r}")


def instant(moment: datetime) -> ir.TimestampScalar:
    """``moment`` as a UTC timestamp literal of the mirror's type."""
    check_as_of(moment)
    return ibis.literal(moment.astimezone(UTC), type=TIMESTAMP)


def seconds(value: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since the epoch, for differences in days or hours on any engine."""
    return value.epoch_seconds().cast("float64")


def recency_key(moment: ir.TimestampValue, row_id: ir.IntegerValue) -> ir.IntegerValue:
    """An integer that orders rows by time, then by id (modulo 1024): ``argmax`` over it picks
    one latest row on every engine, cheaply. Microseconds since the epoch fit 2**10 times in
    an int64 until the year 2255."""
    micros = (seconds(moment) * 1_000_000).round().cast("int64")
    return micros * 1024 + row_id % 1024


class Granularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTHS = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.YEAR: 12}


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period in a time zone: ``first`` is its first day."""

    granularity: Granularity
    first: date
    timezone: str = "Asia/Shanghai"

    @property
    def label(self) -> str:
        """2026-03, 2026-Q1 or 2026."""
        if self.granularity is Granularity.MONTH:
            return f"{self.first:%Y-%m}"
        if self.granularity is Granularity.QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return _midnight(self.first, self.timezone)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC."""
        return _midnight(self.next().first, self.timezone)

    def next(self) -> Period:
        return Period(
            self.granularity, _add_months(self.first, _MONTHS[self.granularity]), self.timezone
        )

    def previous(self) -> Period:
        return Period(
            self.granularity, _add_months(self.first, -_MONTHS[self.granularity]), self.timezone
        )

    @classmethod
    def containing(cls, granularity: Granularity, day: date, timezone: str) -> Period:
        month = day.month - (day.month - 1) % _MONTHS[granularity]
        return cls(granularity, date(day.year, month, 1), timezone)

    @classmethod
    def parse(cls, text: str, timezone: str) -> Period:
        """``2026-03`` (a month), ``2026-Q1`` (a quarter) or ``2026`` (a year)."""
        text = text.strip()
        if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                return cls(Granularity.MONTH, date(year, month, 1), timezone)
        elif match := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text):
            return cls(Granularity.QUARTER, date(int(match[1]), 3 * int(match[2]) - 2, 1), timezone)
        elif re.fullmatch(r"\d{4}", text):
            return cls(Granularity.YEAR, date(int(text), 1, 1), timezone)
        raise ValueError(f"not a month, quarter or year: {text!r}")


def periods_between(first: Period, last: Period) -> list[Period]:
    """``first`` to ``last`` inclusive."""
    found, period = [], first
    while period <= last:
        found.append(period)
        period = period.next()
    return found


def _midnight(day: date, timezone: str) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
