"""The keys an import resolves references against: customers, users, contract numbers.

Read once per import, as frames (a million customers take a few hundred MB at most), so each
chunk of the file is resolved with vectorised lookups instead of a query per row.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

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
