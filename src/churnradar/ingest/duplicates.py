"""Rows that repeat an earlier row of the same file.

Keys and row contents are kept as 64-bit hashes in sorted arrays, not as strings: a
million-row file costs 24 MB, and each chunk is checked with one ``searchsorted``. With 2^64
values, an accidental collision among a million keys has a probability below 10^-7.
:func:`hash_values` is stable across processes (for keys that are stored);
:func:`row_hashes` is faster and only for comparisons within one import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def hash_values(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (column order matters, the index does not)."""
    return np.asarray(pd.util.hash_pandas_object(frame, index=False), dtype=np.uint64)


_MIX = np.uint64(0x100000001B3)  # the FNV prime: spreads one column's hash over the bits


def row_hashes(columns: list[pd.Series]) -> np.ndarray:
    """A 64-bit hash of each row of ``columns``, for comparing rows within one process.

    Python's own ``hash`` (SipHash, cached on each string) is three times faster than
    pandas' hashing here, but salted per process: never store these values. Missing cells
    hash alike (None, NaN and NA all become None).
    """
    size = len(columns[0]) if columns else 0
    combined = np.zeros(size, dtype=np.uint64)
    for column in columns:
        cells = np.array(column.to_numpy(dtype=object), dtype=object)
        cells[pd.isna(cells)] = None  # NaN hashes by identity: two NaNs would differ
        hashed = np.fromiter(map(hash, cells), dtype=np.int64, count=size).view(np.uint64)
        combined = (combined * _MIX) ^ hashed
    return combined


class SeenRows:
    """The keys met so far in a file, with the row each first appeared in and its content."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)
        self._contents = np.empty(0, dtype=np.uint64)

    def check(
        self, keys: np.ndarray, contents: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each row: is its key a repeat, is the whole row a repeat, and of which row
        (0 where not a repeat). The rows that are not repeats are remembered."""
        earlier = np.zeros(len(keys), dtype=np.int64)
        earlier_content = np.zeros(len(keys), dtype=np.uint64)
        # repeats of earlier chunks
        if len(self._keys):
            at = np.searchsorted(self._keys, keys).clip(max=len(self._keys) - 1)
            hit = self._keys[at] == keys
            earlier[hit] = self._rows[at[hit]]
            earlier_content[hit] = self._contents[at[hit]]
        # repeats inside this chunk: every occurrence after the first
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        again = np.zeros(len(keys), dtype=bool)
        again[order[1:]] = ordered[1:] == ordered[:-1]
        first_of = np.maximum.accumulate(np.where(~again[order], np.arange(len(keys)), 0))
        inside = again & (earlier == 0)
        firsts = order[first_of[np.argsort(order)]]
        earlier[inside] = rows[firsts[inside]]
        earlier_content[inside] = contents[firsts[inside]]
        repeated = earlier > 0
        same = repeated & (earlier_content == contents)
        fresh = ~repeated
        self._remember(keys[fresh], rows[fresh], contents[fresh])
        return repeated, same, earlier

    def _remember(self, keys: np.ndarray, rows: np.ndarray, contents: np.ndarray) -> None:
        keys = np.concatenate([self._keys, keys])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._rows = np.concatenate([self._rows, rows])[order]
        self._contents = np.concatenate([self._contents, contents])[order]
