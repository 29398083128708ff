"""Reading the demo company's ground truth table: only the demo package may (the rule
is an import-linter contract), so these questions about it are asked here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, exists, func, select

from churnradar.store.tables.ground_truth import DemoGroundTruth


def holds_demo_company(engine: Engine) -> bool:
    """Whether the customers present were made by the demo (it records its ground truth)."""
    with engine.connect() as connection:
        return bool(connection.scalar(select(exists().select_from(DemoGroundTruth))))


def demo_company_as_of(engine: Engine) -> datetime | None:
    """The instant the demo company in the database was simulated up to."""
    with engine.connect() as connection:
        as_of: datetime | None = connection.scalar(select(func.max(DemoGroundTruth.as_of)))
        return as_of
