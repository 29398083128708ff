"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Enum,
    Integer,
    Numeric,
    TextClause,
    TypeDecorator,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

# SQLite has no decimal type; SQLAlchemy converts through float and warns. Amounts are rounded
# to 2 places and stay below 10^12, which float64 represents exactly after rounding.
warnings.filterwarnings(
    "ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal objects natively"
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL needs BIGINT at scale.
Id = BigInteger().with_variant(Integer(), "sqlite")

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite keeps naive UTC text. Naive values coming in are
    refused, because a naive time has no defined instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Money() -> Numeric[Decimal]:  # noqa: N802 - reads like a type in table definitions
    return Numeric(14, 2, asdecimal=True)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR holding the enum's lowercase value, with a named CHECK constraint."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def stamped(sql: str) -> TextClause:
    """A textual statement whose ``:now`` parameter is bound as a :class:`UtcDateTime`, so
    SQLite stores it in the same text form as every other timestamp."""
    return text(sql).bindparams(bindparam("now", type_=UtcDateTime()))


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__: list[Any] = [
    "Id",
    "JsonDocument",
    "Money",
    "UtcDateTime",
    "enum_column",
    "stamped",
    "utcnow",
]
