"""What a database holds, asked before destructive operations."""

from __future__ import annotations

from sqlalchemy import Engine, exists, func, select

from churnradar.store.tables import Customer
from churnradar.store.tables.ground_truth import DemoGroundTruth


def customer_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Customer)) or 0)


def holds_demo_company(engine: Engine) -> bool:
    """Whether the customers present were made by the demo (it records its ground truth)."""
    with engine.connect() as connection:
        return bool(connection.scalar(select(exists().select_from(DemoGroundTruth))))
