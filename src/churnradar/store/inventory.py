"""What a database holds, asked before destructive operations."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from churnradar.store.tables import Customer


def customer_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Customer)) or 0)
