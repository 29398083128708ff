"""Growable columns of numpy arrays: the simulator appends a day's events in one call."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


class ColumnBuffer:
    """A table of equally long numpy columns that grows by appending whole arrays.

    Rows can be updated in place through :meth:`column` (contract terms change status when
    they are renewed, key contacts get an end date), which plain lists of arrays cannot do.
    """

    def __init__(self, dtypes: dict[str, npt.DTypeLike], capacity: int = 1024) -> None:
        self._columns = {name: np.empty(capacity, dtype=dtype) for name, dtype in dtypes.items()}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, **values: Any) -> npt.NDArray[np.int64]:
        """Append rows (scalars broadcast); return the new rows' positions."""
        lengths = {np.size(v) for v in values.values() if np.ndim(v) > 0}
        count = lengths.pop() if lengths else 1
        if lengths:
            raise ValueError("columns of different lengths")
        if set(values) != set(self._columns):
            raise ValueError(f"expected columns {sorted(self._columns)}, got {sorted(values)}")
        self._reserve(self._size + count)
        rows = np.arange(self._size, self._size + count)
        for name, value in values.items():
            self._columns[name][rows] = value
        self._size += count
        return rows

    def column(self, name: str) -> npt.NDArray[Any]:
        """A writable view of the filled part of one column."""
        return self._columns[name][: self._size]

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        return {name: self.column(name) for name in self._columns}

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {name: array.copy() for name, array in self.columns().items()}

    @classmethod
    def from_state(cls, state: dict[str, npt.NDArray[Any]]) -> ColumnBuffer:
        buffer = cls({name: array.dtype for name, array in state.items()}, capacity=1)
        size = len(next(iter(state.values()))) if state else 0
        buffer._reserve(size)
        for name, array in state.items():
            buffer._columns[name][:size] = array
        buffer._size = size
        return buffer

    def _reserve(self, needed: int) -> None:
        capacity = len(next(iter(self._columns.values())))
        if needed <= capacity:
            return
        new_capacity = max(needed, capacity * 2)
        for name, array in self._columns.items():
            grown = np.empty(new_capacity, dtype=array.dtype)
            grown[: self._size] = array[: self._size]
            self._columns[name] = grown
