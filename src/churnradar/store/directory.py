"""The keys an import resolves references against: customers, users, contract numbers.

Read once per import, as frames (a million customers take a few hundred MB at most), so each
chunk of the file is resolved with vectorised lookups instead of a query per row.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, select

from churnradar.store.tables import Customer, Subscription, User


def customer_keys(connection: Connection) -> pd.DataFrame:
    """``external_id`` and ``name`` of every customer."""
    # plain tuples: pandas probes each Row for namedtuple fields, which costs seconds
    rows = [tuple(row) for row in connection.execute(select(Customer.external_id, Customer.name))]
    return pd.DataFrame(rows, columns=["external_id", "name"], dtype=object)


def user_keys(connection: Connection) -> pd.DataFrame:
    """``username``, ``display_name``, ``external_id`` and ``email`` of every user."""
    rows = [
        tuple(row)
        for row in connection.execute(
            select(User.username, User.display_name, User.external_id, User.email)
        )
    ]
    return pd.DataFrame(
        rows, columns=["username", "display_name", "external_id", "email"], dtype=object
    )


def subscription_keys(connection: Connection) -> pd.Series:
    rows = connection.execute(select(Subscription.external_id)).scalars().all()
    return pd.Series(rows, dtype=object)


def customer_names(engine: Engine, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Name and owner's display name of the given customers (a short list, for display)."""
    if not ids:
        return {}
    query = (
        select(Customer.id, Customer.name, User.display_name)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(Customer.id.in_(ids))
    )
    with engine.connect() as connection:
        return {row[0]: (row[1], row[2]) for row in connection.execute(query)}
