"""change tracking for the Parquet mirror

Triggers on the mirrored tables, so the incremental refresh (store/mirror.py) sees every change,
also those made with raw SQL or by foreign-key cascades:

- after a delete, the row's id goes into ``deleted_rows`` (a cascade from a deleted customer
  included);
- an update that leaves ``updated_at`` as it was sets it to the current time. The ORM sets
  ``updated_at`` itself, so the trigger only acts on other writers.

On SQLite the time is written as SQLAlchemy writes it (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), so
text comparison keeps ordering times correctly. On PostgreSQL deletions are recorded once per
statement from its transition table, and ``clock_timestamp()`` is used rather than ``now()``
(the transaction start) so a long transaction's rows are stamped close to when it commits.

A later migration that rebuilds one of these tables on SQLite (Alembic batch mode copies the
table) drops its triggers: such a migration has to create them again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIRRORED_TABLES = (
    "customers",
    "contacts",
    "orders",
    "subscriptions",
    "interactions",
    "tickets",
    "surveys",
    "churn_events",
)

# SQLite's 'now' has millisecond precision; pad to the 6 digits SQLAlchemy writes.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%S', 'now') || substr(strftime('%f', 'now'), 3) || '000'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql()
    else:
        _create_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in MIRRORED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_mirror_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_mirror_touch ON {table}")
        op.execute("DROP FUNCTION IF EXISTS churnradar_mirror_record_deletions()")
        op.execute("DROP FUNCTION IF EXISTS churnradar_mirror_touch()")
    else:
        for table in MIRRORED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_mirror_delete")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_mirror_touch")


def _create_sqlite() -> None:
    for table in MIRRORED_TABLES:
        op.execute(
            f"""
            CREATE TRIGGER {table}_mirror_delete AFTER DELETE ON {table}
            FOR EACH ROW
            BEGIN
                INSERT INTO deleted_rows (table_name, row_id, deleted_at)
                VALUES ('{table}', OLD.id, {SQLITE_NOW});
            END
            """
        )
        # SQLite cannot assign NEW in a BEFORE trigger: update the row again. The inner update
        # changes updated_at, so the WHEN clause keeps it from firing again.
        op.execute(
            f"""
            CREATE TRIGGER {table}_mirror_touch AFTER UPDATE ON {table}
            FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
            BEGIN
                UPDATE {table} SET updated_at = {SQLITE_NOW} WHERE id = NEW.id;
            END
            """
        )


def _create_postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION churnradar_mirror_record_deletions() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO deleted_rows (table_name, row_id, deleted_at)
            SELECT TG_TABLE_NAME, gone.id, clock_timestamp() FROM gone;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION churnradar_mirror_touch() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := clock_timestamp();
            RETURN NEW;
        END
        $$
        """
    )
    for table in MIRRORED_TABLES:
        op.execute(
            f"""
            CREATE TRIGGER {table}_mirror_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS gone
            FOR EACH STATEMENT EXECUTE FUNCTION churnradar_mirror_record_deletions()
            """
        )
        op.execute(
            f"""
            CREATE TRIGGER {table}_mirror_touch BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
            EXECUTE FUNCTION churnradar_mirror_touch()
            """
        )
