"""What changed between two exports of the simulated world: the rows to write."""

from __future__ import annotations

import pandas as pd


def changed_rows(
    before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Per table, the rows of ``after`` that are new or differ from ``before`` (by key).

    Rows never disappear from an export (a churned customer stays), so there are no deletes.
    """
    delta: dict[str, pd.DataFrame] = {}
    for table, new in after.items():
        key = "customer_id" if table == "demo_ground_truth" else "id"
        old = before.get(table)
        if old is None or old.empty:
            delta[table] = new
            continue
        old_rows = old.set_index(key)
        new_rows = new.set_index(key)
        fresh = ~new_rows.index.isin(old_rows.index)
        common = new_rows.index[~fresh]
        a, b = new_rows.loc[common], old_rows.loc[common, new_rows.columns]
        # equal, or both missing: NaN, NaT and pd.NA never equal themselves, and a comparison
        # with pd.NA is itself missing, which must count as "not equal"
        equal = (a == b).fillna(False).astype(bool)
        differs = ~(equal | (a.isna() & b.isna())).all(axis=1)
        changed = fresh.copy()
        changed[~fresh] = differs.to_numpy()
        delta[table] = new[changed]
    return delta
