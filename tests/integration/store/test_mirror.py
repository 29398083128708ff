from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from churnradar.errors import NotFound
from churnradar.store.mirror import MirrorReport, mirror_connection, mirror_paths, refresh_mirror
from churnradar.store.mirror_source import MIRRORED_TABLES, read_snapshot
from churnradar.store.schema import alembic_config, upgrade
from churnradar.store.tables import Customer, DeletedRow, Interaction, Order, User
from support.mirror_data import (
    build_small_company,
    database_rows,
    mirror_rows,
    months_of,
)

TABLES = [mirrored.name for mirrored in MIRRORED_TABLES]
EVENT_TABLES = ["orders", "interactions", "tickets", "surveys", "churn_events"]
SINGLE = "part.parquet"


def assert_mirror_equals_database(engine: Engine, directory: Path) -> None:
    for table in TABLES:
        assert mirror_rows(directory, table) == database_rows(engine, table), table


def assert_files_in_id_order(generation: Path) -> None:
    for path in generation.rglob("*.parquet"):
        ids = pq.read_table(path, columns=["id"], partitioning=None)["id"].to_pylist()
        assert ids == sorted(set(ids)), path


def rewritten(report: MirrorReport) -> dict[str, set[str]]:
    return {name: set(table.partitions_rewritten) for name, table in report.tables.items()}


def triggers(engine: Engine) -> set[str]:
    query = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    with engine.connect() as connection:
        return set(connection.execute(text(query)).scalars())


def an_order(engine: Engine, *, not_of: int, skip: set[int]) -> Order:
    with Session(engine) as session:
        return session.scalars(
            select(Order)
            .where(Order.customer_id != not_of, Order.id.not_in(skip))
            .order_by(Order.id)
            .limit(1)
        ).one()


class TestChangeTracking:
    def test_every_mirrored_table_has_both_triggers(self, engine: Engine) -> None:
        expected = {f"{table}_mirror_{kind}" for table in TABLES for kind in ("delete", "touch")}
        assert expected <= triggers(engine)

    def test_raw_update_moves_updated_at_forward(self, engine: Engine) -> None:
        build_small_company(engine, customers=2)
        with engine.begin() as connection:
            before = connection.execute(
                text("SELECT updated_at FROM orders WHERE id = 1")
            ).scalar_one()
            connection.execute(text("UPDATE orders SET quantity = quantity + 1 WHERE id = 1"))
            after = connection.execute(
                text("SELECT updated_at FROM orders WHERE id = 1")
            ).scalar_one()
        assert after > before  # on SQLite a text comparison, as the refresh's query does
        if engine.dialect.name == "sqlite":
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", after)

    def test_an_update_that_sets_updated_at_keeps_it(self, engine: Engine) -> None:
        build_small_company(engine, customers=2)
        chosen = datetime(2030, 1, 1, tzinfo=UTC)
        with Session(engine) as session:
            order = session.get_one(Order, 1)
            order.quantity += 1
            order.updated_at = chosen
            session.commit()
            session.refresh(order)
            assert order.updated_at == chosen

    def test_cascaded_deletes_are_recorded(self, engine: Engine) -> None:
        company = build_small_company(engine, customers=3)
        customer = company.customer_ids[1]
        with engine.connect() as connection:
            orders = set(
                connection.execute(select(Order.id).where(Order.customer_id == customer)).scalars()
            )
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM customers WHERE id = :id"), {"id": customer})
        with engine.connect() as connection:
            recorded = connection.execute(select(DeletedRow.table_name, DeletedRow.row_id)).all()
        assert ("customers", customer) in recorded
        assert {row_id for table, row_id in recorded if table == "orders"} == orders
        assert {table for table, _ in recorded} == set(TABLES)

    def test_downgrade_drops_the_triggers(self, engine: Engine) -> None:
        command.downgrade(alembic_config(engine), "0001")
        assert not any("_mirror_" in name for name in triggers(engine))
        upgrade(engine)
        assert len([name for name in triggers(engine) if "_mirror_" in name]) == 2 * len(TABLES)


class TestReadSnapshot:
    def test_sees_one_state_while_others_write(self, engine: Engine) -> None:
        build_small_company(engine, customers=2)
        count = select(func.count()).select_from(Order)
        with read_snapshot(engine) as snapshot:
            before = snapshot.execute(count).scalar_one()
            with engine.begin() as writer:
                writer.execute(text("DELETE FROM orders"))
            assert snapshot.execute(count).scalar_one() == before > 0
        with engine.connect() as connection:
            assert connection.execute(count).scalar_one() == 0


class TestFullRefresh:
    def test_mirror_equals_database(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine)
        report = refresh_mirror(engine, tmp_path / "mirror")
        assert report.full
        assert_mirror_equals_database(engine, tmp_path / "mirror")
        with engine.connect() as connection:
            orders = connection.execute(select(func.count()).select_from(Order)).scalar_one()
        assert report.tables["orders"].rows_written == orders
        assert rewritten(report)["orders"] == months_of(engine, "orders")
        assert rewritten(report)["customers"] == {SINGLE}

    def test_parquet_types(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine, customers=3)
        refresh_mirror(engine, tmp_path)
        connection = mirror_connection(tmp_path)
        columns = connection.sql(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'orders'"
        ).to_arrow_table()
        types = dict(zip(*columns.to_pydict().values(), strict=True))
        assert types["id"] == "BIGINT"
        assert types["ordered_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["amount"] == "DECIMAL(14,2)"
        assert types["status"] == "VARCHAR"

    def test_event_tables_are_partitioned_by_month(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine)
        report = refresh_mirror(engine, tmp_path)
        for table in EVENT_TABLES:
            files = {
                path.relative_to(report.generation / table).as_posix()
                for path in (report.generation / table).rglob("*.parquet")
            }
            assert files == months_of(engine, table)
        state = json.loads((report.generation / "_state.json").read_text())
        assert set(state["tables"]) == set(TABLES)

    def test_empty_database_gives_empty_tables(self, engine: Engine, tmp_path: Path) -> None:
        refresh_mirror(engine, tmp_path)
        for table in TABLES:
            assert mirror_rows(tmp_path, table) == []
        build_small_company(engine, customers=2)
        report = refresh_mirror(engine, tmp_path)
        assert not report.full
        assert_mirror_equals_database(engine, tmp_path)
        assert not list((report.generation / "orders").glob("month=__HIVE_DEFAULT_PARTITION__"))

    def test_paths_are_globs_for_read_parquet(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine, customers=3)
        refresh_mirror(engine, tmp_path)
        paths = mirror_paths(tmp_path)
        assert set(paths) == set(TABLES)
        counted = duckdb.sql(f"SELECT count(*) AS n FROM read_parquet('{paths['orders']}')")
        assert counted.to_arrow_table().to_pylist() == [{"n": len(database_rows(engine, "orders"))}]

    def test_no_mirror_is_not_found(self, tmp_path: Path) -> None:
        with pytest.raises(NotFound, match="no Parquet mirror"):
            mirror_paths(tmp_path)


class TestIncrementalRefresh:
    @pytest.mark.parametrize("writer", ["orm", "sql"])
    def test_mirror_follows_inserts_updates_moves_and_deletes(
        self, engine: Engine, tmp_path: Path, writer: str
    ) -> None:
        company = build_small_company(engine)
        refresh_mirror(engine, tmp_path)
        gone = company.customer_ids[3]
        expected = {table: months_of(engine, table, customer_id=gone) for table in EVENT_TABLES}
        gone_orders = len(
            [row for row in database_rows(engine, "orders") if row["customer_id"] == gone]
        )
        expected |= {table: {SINGLE} for table in ("customers", "contacts", "subscriptions")}

        repriced = an_order(engine, not_of=gone, skip=set())
        moved = an_order(engine, not_of=gone, skip={repriced.id})
        deleted = an_order(engine, not_of=gone, skip={repriced.id, moved.id})
        new_month = moved.ordered_at + timedelta(days=40)  # always another month
        expected["orders"] |= {
            f"month={when:%Y-%m}/part.parquet"
            for when in (repriced.ordered_at, moved.ordered_at, new_month, deleted.ordered_at)
        }

        with Session(engine) as session:  # new rows, always through the ORM
            newcomer = Customer(external_id="NEW", name="新客户", business_model="noncontract")
            session.add(newcomer)
            session.flush()
            session.add_all(
                [
                    Order(
                        external_id="NEW-1",
                        customer_id=newcomer.id,
                        ordered_at=datetime(2024, 8, 2, 9, tzinfo=UTC),
                        amount=Decimal("12.30"),
                    ),
                    Interaction(
                        customer_id=company.customer_ids[0],
                        occurred_at=datetime(2024, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
                        channel="phone",
                        direction="outbound",
                    ),
                ]
            )
            session.commit()
        expected["orders"].add("month=2024-08/part.parquet")
        expected["interactions"].add("month=2024-06/part.parquet")

        if writer == "orm":
            with Session(engine) as session:
                session.get_one(Order, repriced.id).amount = Decimal("99999.99")
                session.get_one(Order, moved.id).ordered_at = new_month
                session.delete(session.get_one(Order, deleted.id))
                session.delete(session.get_one(Customer, gone))
                session.commit()
        else:
            with engine.begin() as connection:
                connection.execute(
                    text("UPDATE orders SET amount = 99999.99 WHERE id = :id"), {"id": repriced.id}
                )
                connection.execute(
                    text("UPDATE orders SET ordered_at = :when WHERE id = :id"),
                    {
                        "id": moved.id,
                        # SQLite keeps SQLAlchemy's text form of UTC times
                        "when": f"{new_month:%Y-%m-%d %H:%M:%S.%f}"
                        if engine.dialect.name == "sqlite"
                        else new_month,
                    },
                )
                connection.execute(text("DELETE FROM orders WHERE id = :id"), {"id": deleted.id})
                connection.execute(text("DELETE FROM customers WHERE id = :id"), {"id": gone})

        report = refresh_mirror(engine, tmp_path)

        assert not any(table.full for table in report.tables.values())
        assert_mirror_equals_database(engine, tmp_path)
        assert rewritten(report) == expected
        assert_files_in_id_order(report.generation)
        assert report.tables["orders"].rows_written == 3  # new, repriced, moved
        assert report.tables["customers"].rows_removed == 1
        assert report.tables["orders"].rows_removed == 1 + gone_orders

    def test_second_refresh_without_changes_rewrites_nothing(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        company = build_small_company(engine)
        refresh_mirror(engine, tmp_path)
        with engine.begin() as connection:
            connection.execute(text("UPDATE orders SET quantity = 2 WHERE id = 3"))
            connection.execute(
                text("DELETE FROM customers WHERE id = :id"), {"id": company.customer_ids[5]}
            )
        first = refresh_mirror(engine, tmp_path)
        assert any(table.partitions_rewritten for table in first.tables.values())

        second = refresh_mirror(engine, tmp_path)  # the look-back window reads them again

        assert all(not table.partitions_rewritten for table in second.tables.values())
        assert all(
            table.rows_written == table.rows_removed == 0 for table in second.tables.values()
        )
        assert_mirror_equals_database(engine, tmp_path)

    def test_foreign_key_set_null_is_seen(self, engine: Engine, tmp_path: Path) -> None:
        company = build_small_company(engine, customers=4)
        refresh_mirror(engine, tmp_path)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": company.user_id})
        report = refresh_mirror(engine, tmp_path)
        assert report.tables["customers"].rows_written == 4
        assert {row["owner_id"] for row in mirror_rows(tmp_path, "customers")} == {None}
        assert_mirror_equals_database(engine, tmp_path)

    def test_full_refresh_after_incremental_gives_the_same_mirror(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        company = build_small_company(engine)
        refresh_mirror(engine, tmp_path)
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM customers WHERE id = :id"), {"id": company.customer_ids[0]}
            )
            connection.execute(text("UPDATE tickets SET satisfaction = 3"))
        refresh_mirror(engine, tmp_path)
        incremental = {table: mirror_rows(tmp_path, table) for table in TABLES}
        report = refresh_mirror(engine, tmp_path, full=True)
        assert report.full
        assert {table: mirror_rows(tmp_path, table) for table in TABLES} == incremental

    def test_a_table_whose_schema_changed_is_rebuilt(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine, customers=3)
        first = refresh_mirror(engine, tmp_path)
        state_file = first.generation / "_state.json"
        state = json.loads(state_file.read_text())
        state["tables"]["surveys"]["fingerprint"] = "older"
        state_file.write_text(json.dumps(state))
        report = refresh_mirror(engine, tmp_path)
        assert [name for name, table in report.tables.items() if table.full] == ["surveys"]
        assert_mirror_equals_database(engine, tmp_path)

    def test_a_reader_keeps_the_generation_it_opened(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine, customers=3)
        refresh_mirror(engine, tmp_path)
        before = database_rows(engine, "orders")
        reader = mirror_connection(tmp_path)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM orders WHERE id = 1"))
        refresh_mirror(engine, tmp_path)
        try:
            kept = reader.sql("SELECT id FROM orders ORDER BY id").to_arrow_table()["id"]
        finally:
            reader.close()
        assert kept.to_pylist() == [row["id"] for row in before]
        assert mirror_rows(tmp_path, "orders") == database_rows(engine, "orders")

    def test_old_generations_are_pruned(self, engine: Engine, tmp_path: Path) -> None:
        build_small_company(engine, customers=2)
        reports = [refresh_mirror(engine, tmp_path) for _ in range(4)]
        generations = sorted(path.name for path in tmp_path.glob("gen-*"))
        assert generations == [reports[2].generation.name, reports[3].generation.name]
        assert (tmp_path / "CURRENT").read_text() == reports[3].generation.name

    def test_processed_deletions_are_purged(self, engine: Engine, tmp_path: Path) -> None:
        company = build_small_company(engine, customers=3)
        refresh_mirror(engine, tmp_path)
        with Session(engine) as session:
            session.delete(session.get_one(Customer, company.customer_ids[0]))
            session.delete(session.get_one(User, company.user_id))
            session.commit()
        refresh_mirror(engine, tmp_path)
        assert deleted_rows(engine) > 0  # still inside the look-back window
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        with Session(engine) as session:
            session.execute(update(DeletedRow).values(deleted_at=an_hour_ago))
            session.commit()
        refresh_mirror(engine, tmp_path)
        assert deleted_rows(engine) == 0
        assert_mirror_equals_database(engine, tmp_path)


def deleted_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(DeletedRow)).scalar_one()
