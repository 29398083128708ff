"""The record of each import: what was read, what changed, what was rejected and by whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from churnradar.store.tables import ImportBatch, User


def record_import_batch(
    connection: Connection,
    *,
    kind: str,
    file_name: str,
    file_sha256: str | None,
    status: str,
    counts: dict[str, int],
    mapping: dict[str, str],
    rejected_rows: list[dict[str, Any]],
    rejected_file: str | None,
    created_by: int | None,
    created_at: datetime,
    finished_at: datetime,
    idempotency_key: str | None = None,
) -> int:
    batch_id: int = connection.execute(
        insert(ImportBatch)
        .values(
            kind=kind,
            file_name=file_name[-255:],
            file_sha256=file_sha256,
            idempotency_key=idempotency_key,
            status=status,
            counts=counts,
            mapping=mapping,
            rejected_rows=rejected_rows,
            rejected_file=rejected_file,
            created_by=created_by,
            created_at=created_at,
            finished_at=finished_at,
        )
        .returning(ImportBatch.id)
    ).scalar_one()
    return batch_id


def user_id(connection: Connection, username: str) -> int | None:
    found: int | None = connection.execute(
        select(User.id).where(User.username == username)
    ).scalar_one_or_none()
    return found
