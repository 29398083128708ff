"""Building the demo company into the application database, and continuing its life."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from churnradar.config import Settings
from churnradar.demo import (
    MAX_CUSTOMERS,
    MIN_CUSTOMERS,
    DemoCompany,
    generate_company,
    save_simulator,
)
from churnradar.demo.summary import DemoSummary, summarize
from churnradar.demo.truth_table import holds_demo_company
from churnradar.errors import Conflict, InvalidInput
from churnradar.store.bulk import LoadReport, load_frames
from churnradar.store.engine import safe_url
from churnradar.store.inventory import customer_count
from churnradar.store.mirror import MirrorReport, refresh_mirror
from churnradar.store.schema import upgrade

STATE_FILE = Path("demo") / "simulation.npz"


@dataclass
class DemoBuild:
    summary: DemoSummary
    load: LoadReport
    mirror: MirrorReport
    seconds: dict[str, float] = field(default_factory=dict)


def build_demo_company(
    engine: Engine,
    settings: Settings,
    *,
    customers: int,
    seed: int,
    end: date,
    years: int = 3,
    replace: bool = False,
    on_step: Callable[[str], None] = lambda step: None,
) -> DemoBuild:
    """Simulate the demo company, load it, save the simulation, refresh the mirror.

    An earlier demo company in the database is replaced; a database holding other customers
    is only replaced when ``replace`` is given, so real data is never deleted by accident.
    """
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise InvalidInput(
            "demo.invalid_customers", min=MIN_CUSTOMERS, max=MAX_CUSTOMERS, value=customers
        )
    if not 1 <= years <= 10:
        raise InvalidInput("demo.invalid_years", value=years)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    upgrade(engine)
    existing = customer_count(engine)
    if existing and not (replace or holds_demo_company(engine)):
        raise Conflict("store.not_empty", url=safe_url(engine.url), customers=existing)
    seconds["prepare"] = _lap(clock)

    on_step("simulate")
    clock = time.perf_counter()
    company: DemoCompany = generate_company(customers=customers, seed=seed, end=end, years=years)
    seconds["simulate"] = _lap(clock)

    on_step("load")
    clock = time.perf_counter()
    load = load_frames(engine, company.frames, replace=existing > 0)
    seconds["load"] = _lap(clock)

    on_step("mirror")
    clock = time.perf_counter()
    save_simulator(company.simulator, settings.data_dir / STATE_FILE)
    mirror = refresh_mirror(engine, settings.mirror_dir, full=True)
    seconds["mirror"] = _lap(clock)
    return DemoBuild(summary=summarize(company), load=load, mirror=mirror, seconds=seconds)


def _lap(start: float) -> float:
    return time.perf_counter() - start
