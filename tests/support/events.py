"""Small hand-written companies for the analytics tests.

``company(customers=[...], orders=[...], ...)`` takes plain rows (dicts) per table and returns
:class:`EventTables` on an in-memory DuckDB. Times are written ``"2026-03-05"`` or
``"2026-03-05 14:00"`` and read as UTC; ids are filled in when omitted; every column a row
leaves out is null, except the defaults below (a customer is a repeat buyer first seen
2025-01-01, an order is completed, a churn event is reported).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from churnradar.analytics import EventTables, event_tables
from churnradar.analytics.tables import SCHEMAS, TABLE_NAMES

Row = dict[str, Any]

DEFAULTS: dict[str, Row] = {
    "customers": {"business_model": "noncontract", "first_seen": "2025-01-01", "kind": "company"},
    "orders": {"status": "completed", "currency": "CNY", "quantity": 1},
    "subscriptions": {"status": "active", "plan": "专业版", "currency": "CNY"},
    "interactions": {"direction": "outbound", "channel": "phone"},
    "tickets": {"category": "质量", "severity": "medium", "is_complaint": False},
    "surveys": {"kind": "nps"},
    "churn_events": {"source": "reported", "reason": "unknown", "type": "active"},
    "contacts": {"is_key": False},
}


def at(text: str) -> datetime:
    """``"2026-03-05"`` or ``"2026-03-05 14:00"`` as an aware UTC datetime."""
    return pd.Timestamp(text).tz_localize(UTC).to_pydatetime()


def arrow_tables(**rows: list[Row]) -> dict[str, pa.Table]:
    unknown = set(rows) - set(TABLE_NAMES)
    if unknown:
        raise ValueError(f"not event tables: {sorted(unknown)}")
    result = {}
    for name, table_rows in rows.items():
        schema = SCHEMAS[name]
        filled = [
            {"id": number, **DEFAULTS.get(name, {}), **row}
            for number, row in enumerate(table_rows, start=1)
        ]
        columns = {}
        for field in schema:
            values = [row.get(field.name) for row in filled]
            if pa.types.is_timestamp(field.type):
                values = [at(value) if isinstance(value, str) else value for value in values]
            elif pa.types.is_decimal(field.type):
                values = [None if value is None else Decimal(str(value)) for value in values]
            columns[field.name] = pa.array(values, type=field.type)
        extra = {key for row in filled for key in row} - set(schema.names)
        if extra:
            raise ValueError(f"{name} has no columns {sorted(extra)}")
        result[name] = pa.table(columns, schema=schema)
    return result


def company(**rows: list[Row]) -> EventTables:
    """Event tables holding exactly ``rows``."""
    return event_tables(arrow_tables(**rows))
