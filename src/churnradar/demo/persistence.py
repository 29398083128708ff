"""Saving a simulation and continuing it later from the day it stopped.

The population is rebuilt from (customers, seed, start, horizon): it is a pure function of
them. What changed since is saved: the day, the random generator's state, the per-customer
state and the event buffers, in one compressed ``.npz`` file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from churnradar.demo.buffers import ColumnBuffer
from churnradar.demo.simulator import Simulator
from churnradar.demo.state import CustomerState
from churnradar.errors import NotFound

FORMAT_VERSION = 1


def save_simulator(sim: Simulator, path: Path) -> None:
    meta = {
        "format": FORMAT_VERSION,
        "customers": sim.pop.size,
        "seed": sim.seed,
        "start": sim.calendar.start.isoformat(),
        "horizon_days": sim.calendar.horizon_days,
        "day": sim.day,
        "arrived": sim.arrived,
        "rng": sim.rng.bit_generator.state,
    }
    arrays: dict[str, Any] = {"meta": np.asarray(json.dumps(meta))}
    arrays |= {f"state.{name}": array for name, array in sim.state.arrays().items()}
    for table, buffer in sim.events.items():
        arrays |= {f"events.{table}.{name}": col for name, col in buffer.columns().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)  # never leave a half-written state behind


def load_simulator(path: Path) -> Simulator:
    if not path.exists():
        raise NotFound("demo.no_state", path=str(path))
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        sim = Simulator(
            customers=meta["customers"],
            seed=meta["seed"],
            start=date.fromisoformat(meta["start"]),
            horizon_days=meta["horizon_days"],
        )
        sim.day, sim.arrived = meta["day"], meta["arrived"]
        sim.rng.bit_generator.state = meta["rng"]
        sim.state = CustomerState.from_arrays(
            {key[6:]: data[key] for key in data.files if key.startswith("state.")}
        )
        for table in sim.events:
            prefix = f"events.{table}."
            columns = {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}
            sim.events[table] = ColumnBuffer.from_state(columns)
    return sim
