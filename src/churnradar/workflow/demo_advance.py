"""Continuing the demo company's life in the database, with retention contacts applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import Engine

from churnradar.config import Settings
from churnradar.demo import load_simulator, save_simulator
from churnradar.demo.delta import changed_rows
from churnradar.demo.frames import FrameBuilder
from churnradar.demo.truth_table import demo_company_as_of, holds_demo_company
from churnradar.errors import Conflict, InvalidInput, NotFound
from churnradar.store.engine import safe_url
from churnradar.store.mirror import MirrorReport, refresh_mirror
from churnradar.store.upsert import upsert_frames
from churnradar.workflow.demo_build import STATE_FILE

MAX_DAYS = 3660


@dataclass(frozen=True)
class DemoAdvance:
    start: date  # first simulated day
    as_of: date  # last simulated day
    contacted: int  # distinct customers reached (churned ones cannot be)
    saved: int  # leaving customers the contacts turned around (truth, for the demo only)
    written: dict[str, int]
    mirror: MirrorReport


def advance_demo_company(
    engine: Engine, settings: Settings, *, days: int, contacted: Sequence[int] = ()
) -> DemoAdvance:
    """Make retention contacts with the customers ``contacted`` (their ids) today, simulate
    ``days`` more days, write what changed, and refresh the mirror incrementally."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("demo.invalid_days", value=days, max=MAX_DAYS)
    if not holds_demo_company(engine):
        raise NotFound("demo.not_in_database", url=safe_url(engine.url))
    simulator = load_simulator(settings.data_dir / STATE_FILE)
    stored = demo_company_as_of(engine)
    if stored != FrameBuilder(simulator).as_of:
        raise Conflict(
            "demo.state_mismatch",
            state=simulator.today.isoformat(),
            url=safe_url(engine.url),
            stored=stored.isoformat() if stored else "-",
        )
    ids = np.asarray(contacted, dtype=np.int64)
    unknown = ids[(ids < 1) | (ids > simulator.arrived)]
    if len(unknown):
        raise InvalidInput("demo.unknown_customers", ids=", ".join(map(str, unknown[:10])))
    before = FrameBuilder(simulator).build()
    start = simulator.calendar.date_of(simulator.day)
    reachable = np.unique(ids[~simulator.state.churned[ids - 1]])
    saved = simulator.intervene(reachable - 1)
    simulator.step(days)
    written = upsert_frames(engine, changed_rows(before, FrameBuilder(simulator).build()))
    save_simulator(simulator, settings.data_dir / STATE_FILE)
    mirror = refresh_mirror(engine, settings.mirror_dir)
    return DemoAdvance(
        start=start,
        as_of=simulator.today,
        contacted=len(reachable),
        saved=int(saved.sum()),
        written=written,
        mirror=mirror,
    )
