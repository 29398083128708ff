"""Dates of the demo company's world: weekdays, seasons, price rises, service crunches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from churnradar.demo.state import OPEN

# Orders and calls happen on working days; 春节 (February) is quiet, 双十一 busy.
WEEKDAY_FACTOR = np.asarray([1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.15]) / (5.45 / 7)
MONTH_FACTOR = np.asarray([0.9, 0.55, 1.05, 1.0, 1.0, 1.05, 0.95, 0.95, 1.05, 1.0, 1.2, 1.15])
MONTH_FACTOR = MONTH_FACTOR / MONTH_FACTOR.mean()
NPS_MONTHS = (3, 6, 9, 12)
OFFICE_START, OFFICE_HOURS = 9 * 3600, 9 * 3600


@dataclass(frozen=True)
class Calendar:
    start: date
    horizon_days: int
    price_rise_day: npt.NDArray[np.int32] = field(init=False)
    crunches: tuple[tuple[int, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        h = self.horizon_days
        # 工业设备 and 耗材 get dearer in year two, 软件服务 late in the history (renewals).
        rise = np.full(5, OPEN, dtype=np.int32)
        rise[[0, 1]] = round(0.42 * h)
        rise[2] = round(0.75 * h)
        object.__setattr__(self, "price_rise_day", rise)
        # Two periods when the service desk is overwhelmed and complaints wait.
        crunches = (
            (round(0.30 * h), round(0.30 * h) + 60),
            (round(0.85 * h), round(0.85 * h) + 45),
        )
        object.__setattr__(self, "crunches", crunches)

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def demand(self, day: int) -> float:
        """How busy a day is for orders and calls, relative to an average day."""
        when = self.date_of(day)
        return float(WEEKDAY_FACTOR[when.weekday()] * MONTH_FACTOR[when.month - 1])

    def working(self, day: int) -> float:
        return float(WEEKDAY_FACTOR[self.date_of(day).weekday()])

    def in_crunch(self, day: int) -> bool:
        return any(begin <= day < end for begin, end in self.crunches)

    def is_nps_wave(self, day: int) -> bool:
        when = self.date_of(day)
        return when.day == 15 and when.month in NPS_MONTHS

    def competitor_entry_day(self) -> int:
        return self.horizon_days // 2

    @staticmethod
    def office_seconds(rng: np.random.Generator, count: int) -> npt.NDArray[np.int32]:
        """Local seconds after midnight within office hours."""
        return (OFFICE_START + rng.integers(0, OFFICE_HOURS, count)).astype(np.int32)

    @staticmethod
    def any_seconds(rng: np.random.Generator, count: int) -> npt.NDArray[np.int32]:
        """Local seconds after midnight between 07:00 and 23:59 (logins, web visits)."""
        return (7 * 3600 + rng.integers(0, 17 * 3600, count)).astype(np.int32)
