"""The demo company in one call: simulate its history and return it as frames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from churnradar.demo.frames import FrameBuilder
from churnradar.demo.mechanisms import DEFAULT_EFFECTS, TrueEffects
from churnradar.demo.simulator import Simulator

MIN_CUSTOMERS, MAX_CUSTOMERS = 10, 10_000_000


@dataclass
class DemoCompany:
    simulator: Simulator
    frames: dict[str, pd.DataFrame]

    @property
    def as_of(self) -> date:
        """The last day of the history."""
        return self.simulator.today


def generate_company(
    *,
    customers: int = 3000,
    seed: int = 42,
    end: date,
    years: int = 3,
    effects: TrueEffects = DEFAULT_EFFECTS,
) -> DemoCompany:
    """Simulate ``years`` of history ending on ``end`` (inclusive), deterministic by seed."""
    start = end - timedelta(days=round(365.25 * years)) + timedelta(days=1)
    horizon = (end - start).days + 1
    simulator = Simulator(
        customers=customers, seed=seed, start=start, horizon_days=horizon, effects=effects
    )
    simulator.step(horizon)
    return DemoCompany(simulator=simulator, frames=FrameBuilder(simulator).build())


def continue_company(simulator: Simulator, days: int) -> DemoCompany:
    """Advance a (loaded) simulation by ``days`` and return the world as of its new end."""
    simulator.step(days)
    return DemoCompany(simulator=simulator, frames=FrameBuilder(simulator).build())
