"""Row deletions recorded by triggers, so the Parquet mirror can drop them incrementally."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from churnradar.store.tables.base import Base
from churnradar.store.types import Id, UtcDateTime, utcnow


class DeletedRow(Base):
    __tablename__ = "deleted_rows"
    __table_args__ = (Index("ix_deleted_rows_table_name_deleted_at", "table_name", "deleted_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
