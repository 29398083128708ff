"""Who a row refers to: customers by number or name, users by name, contracts by number.

Directories are built once per import from what the database holds, and learn the keys the
import itself creates, so that a later chunk finds a customer an earlier chunk created. Each
resolves a whole column at once and returns the canonical key the store joins on
(``customers.external_id``, ``users.username``), with a problem code where it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def fold(values: pd.Series) -> pd.Series:
    """Names as compared: case folded, spaces removed (ACME  Ltd is Acme Ltd)."""
    return _plain(values.astype("string").str.casefold().str.replace(r"\s+", "", regex=True))


def first_spelling(names: pd.Series) -> pd.Series:
    """Each name as first written among the names that compare equal to it, so that names
    differing only in case or spaces create one customer or user, not several."""
    folded = fold(names)
    first = pd.Series(names.to_numpy(dtype=object), index=folded.to_numpy(dtype=object))
    first = first[~first.index.duplicated(keep="first")]
    return pd.Series(first.reindex(folded.to_numpy(dtype=object)).to_numpy(), index=names.index)


def _plain(values: pd.Series) -> pd.Series:
    """Object dtype: pandas' ``isin`` on Arrow-backed strings loops in Python, on objects it
    uses a hash table (7 s against 0.1 s for a million keys)."""
    return values.astype(object).where(values.notna(), None)


@dataclass
class Resolved:
    keys: pd.Series  # the canonical key per row, NA where unresolved
    errors: pd.Series  # a problem code per row, None where resolved or empty


class CustomerDirectory:
    """Customers by external id, and by name where the name is held by one customer only."""

    def __init__(self, customers: pd.DataFrame) -> None:
        """``customers`` has the columns ``external_id`` and ``name``."""
        self._keys: set[str] = set()
        self._key_index = pd.Index([], dtype=object)
        self._by_name = pd.Series([], dtype=object)
        self._ambiguous = pd.Index([], dtype=object)
        self.add(customers["external_id"], customers["name"])

    def add(self, keys: pd.Series, names: pd.Series) -> None:
        keys = keys.astype(object)
        self._key_index = self._key_index.append(pd.Index(keys.dropna().unique()))
        folded = pd.Series(keys.to_numpy(), index=fold(names).to_numpy(dtype=object))
        folded = folded[folded.index.notna()]
        named = pd.concat([self._by_name, folded])
        counts = named.groupby(level=0).nunique()
        # a name once held by two customers stays ambiguous: the index below keeps only one
        self._ambiguous = self._ambiguous.union(pd.Index(counts.index[counts > 1]))
        self._by_name = named[~named.index.duplicated(keep="first")]

    def knows(self, keys: pd.Series) -> pd.Series:
        return _plain(keys).isin(self._key_index)

    def resolve(self, keys: pd.Series | None, names: pd.Series | None) -> Resolved:
        """By number where the row has one, else by name."""
        index = (keys if keys is not None else names).index  # type: ignore[union-attr]
        result = pd.Series(pd.NA, index=index, dtype=object)
        errors = pd.Series(None, index=index, dtype=object)
        if keys is not None:
            given = keys.notna()
            known = given & self.knows(keys)
            result[known] = keys[known]
            errors[given & ~known] = "unknown_customer"
            by_name = ~given
        else:
            by_name = pd.Series(True, index=index)
        if names is not None:
            wanted = by_name & names.notna()
            folded = fold(names[wanted])
            ambiguous = folded.isin(self._ambiguous).to_numpy()
            found = self._by_name.reindex(folded.to_numpy()).to_numpy()
            matched = wanted.copy()
            matched[wanted] = ~pd.isna(found) & ~ambiguous
            result[matched] = found[~pd.isna(found) & ~ambiguous]
            rows = wanted[wanted].index
            errors[rows[ambiguous]] = "ambiguous_customer"
            errors[rows[pd.isna(found) & ~ambiguous]] = "unknown_customer"
        return Resolved(result, errors)


class UserDirectory:
    """Users by user name, display name, external id or email; the key is the user name."""

    def __init__(self, users: pd.DataFrame) -> None:
        """``users`` has ``username``, ``display_name``, ``external_id`` and ``email``."""
        self._aliases = pd.Series([], dtype=object)
        self._ambiguous = pd.Index([], dtype=object)
        self.add(users)

    def add(self, users: pd.DataFrame) -> None:
        columns = ("username", "display_name", "external_id", "email")
        pieces = [
            pd.Series(users["username"].to_numpy(), index=fold(users[column]).to_numpy())
            for column in columns
            if column in users
        ]
        aliases = pd.concat([self._aliases, *pieces])
        aliases = aliases[aliases.index.notna()]
        counts = aliases.groupby(level=0).nunique()
        self._ambiguous = self._ambiguous.union(pd.Index(counts.index[counts > 1]))
        self._aliases = aliases[~aliases.index.duplicated(keep="first")]

    def resolve(self, names: pd.Series) -> Resolved:
        present = names.notna()
        folded = fold(names)
        found = self._aliases.reindex(folded.to_numpy()).to_numpy()
        ambiguous = folded.isin(self._ambiguous).to_numpy() & present.to_numpy()
        known = ~pd.isna(found) & ~ambiguous
        keys = pd.Series(found, index=names.index, dtype=object)
        errors = pd.Series(None, index=names.index, dtype=object)
        errors[ambiguous] = "ambiguous_user"
        errors[present.to_numpy() & pd.isna(found)] = "unknown_user"
        return Resolved(keys.where(known, pd.NA), errors)


class KeyDirectory:
    """Plain keys (contract numbers): known to the database, or seen earlier in this file."""

    def __init__(self, keys: pd.Series) -> None:
        self._index = pd.Index(keys.dropna().unique())

    def add(self, keys: pd.Series) -> None:
        self._index = self._index.append(pd.Index(keys.dropna().unique()))

    def resolve(self, keys: pd.Series, code: str) -> Resolved:
        given = keys.notna()
        known = given & _plain(keys).isin(self._index)
        errors = pd.Series(None, index=keys.index, dtype=object)
        errors[given & ~known] = code
        return Resolved(keys.where(known, pd.NA), errors)
