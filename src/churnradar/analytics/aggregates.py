"""``latest``: the value of the row with the greatest key, as cheaply as the engine allows.

Ibis compiles ``argmax`` for DuckDB as ``FIRST(value ORDER BY key DESC)``, an ordered
aggregate that buffers and sorts every group's rows; DuckDB's own ``arg_max_null`` keeps one
running maximum per group. Other engines get Ibis's ``argmax``. Both count a null value as a
value: the latest row's null is the answer.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.common.exceptions import IbisError

_TIME = dt.Timestamp(timezone="UTC", scale=6)


@ibis.udf.agg.builtin(name="arg_max_null")  # type: ignore[untyped-decorator]
def _float_by_number(arg: float, val: int) -> float:  # type: ignore[empty-body]
    """DuckDB's arg_max_null for a float value and an integer key."""


@ibis.udf.agg.builtin(name="arg_max_null")  # type: ignore[untyped-decorator]
def _int_by_number(arg: int, val: int) -> int:  # type: ignore[empty-body]
    """DuckDB's arg_max_null for an integer value and an integer key."""


@ibis.udf.agg.builtin(  # type: ignore[untyped-decorator]
    name="arg_max_null", signature=((dt.int64, _TIME), dt.int64)
)
def _int_by_time(arg: int, val: object) -> int:  # type: ignore[empty-body]
    """DuckDB's arg_max_null for an integer value and a timestamp key."""


def latest(
    value: ir.NumericValue, key: ir.Value, where: ir.BooleanValue | None = None
) -> ir.NumericScalar:
    """``value`` of the row with the greatest ``key`` (among rows where ``where``)."""
    if not _on_duckdb(value):
        return value.argmax(key, where=where)
    if key.type().is_timestamp():
        return _int_by_time(value.cast("int64"), key.cast(_TIME), where=where)
    if value.type().is_integer():
        return _int_by_number(value.cast("int64"), key.cast("int64"), where=where)
    return _float_by_number(value.cast("float64"), key.cast("int64"), where=where)


def _on_duckdb(value: ir.Value) -> bool:
    try:
        return bool(ibis.get_backend(value).name == "duckdb")
    except IbisError:
        return False
