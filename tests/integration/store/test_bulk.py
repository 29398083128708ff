from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, Numeric, Table, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from churnradar.errors import Conflict, InvalidInput
from churnradar.store.bulk import company_tables, delete_company_data, load_frames
from churnradar.store.tables import (
    AuditLog,
    Base,
    Customer,
    CustomerTag,
    Order,
    Run,
    Setting,
    Subscription,
    Team,
    metadata,
)
from churnradar.store.types import UtcDateTime
from support.frames import company_frames

CENT = Decimal("0.01")


def _mapped_classes() -> dict[str, type[Any]]:
    return {mapper.local_table.name: mapper.class_ for mapper in Base.registry.mappers}


def _expected(value: Any, column: Any) -> Any:
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return None
    if isinstance(column.type, UtcDateTime):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(column.type, Numeric) and column.type.asdecimal:
        return Decimal(str(value)).quantize(CENT)
    if isinstance(value, bool | int | float | str):
        return value
    return value.item() if hasattr(value, "item") else value


def _key(row: dict[str, Any], table: Table) -> tuple[Any, ...]:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _stored(
    engine: Engine, table: Table, columns: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    mapped = _mapped_classes()[table.name]
    with Session(engine) as session:
        objects = session.scalars(select(mapped)).all()
        rows = [{name: getattr(obj, name) for name in columns} for obj in objects]
    return {_key(row, table): row for row in rows}


def _given(frame: pd.DataFrame, table: Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = [
        {name: _expected(value, table.c[name]) for name, value in record.items()}
        for record in frame.to_dict("records")
    ]
    return {_key(row, table): row for row in rows}


def _schema(engine: Engine, tables: list[str]) -> dict[str, Any]:
    """Each table's indexes and foreign keys, as the database reports them."""
    inspector = inspect(engine)
    return {
        name: (
            sorted(str(index) for index in inspector.get_indexes(name)),
            sorted(str(fk) for fk in inspector.get_foreign_keys(name)),
        )
        for name in tables
    }


def _triggers(engine: Engine) -> list[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return sorted(connection.scalars(text(query)))


def _counts(engine: Engine, tables: list[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(metadata.tables[name])) or 0
            for name in tables
        }


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    return company_frames(50, seed=11)


class TestLoadFrames:
    def test_reads_back_identical_values_through_the_orm(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)

        for name, frame in frames.items():
            table = metadata.tables[name]
            assert _stored(engine, table, list(frame.columns)) == _given(frame, table), name

    def test_values_come_back_typed(self, engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
        load_frames(engine, frames)

        with Session(engine) as session:
            order = session.get_one(Order, 1)
            customer = session.get_one(Customer, 1)
        assert order.amount == Decimal("1234.56")
        assert isinstance(order.amount, Decimal)
        assert order.ordered_at.tzinfo is not None
        assert order.ordered_at.utcoffset() == timedelta(0)
        assert order.ordered_at == frames["orders"]["ordered_at"][0].to_pydatetime()
        assert isinstance(customer.status, StrEnum)
        assert customer.name == '北京"星辰", 科技\n有限公司'

    def test_fills_left_out_columns_from_defaults(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        before = datetime.now(UTC)
        load_frames(engine, frames)
        after = datetime.now(UTC)

        with Session(engine) as session:
            subscription = session.get_one(Subscription, 1)
            order = session.get_one(Order, 1)
            tag_sources = set(session.scalars(select(CustomerTag.source)))
        assert before <= subscription.created_at <= after
        assert subscription.updated_at == subscription.created_at
        assert subscription.currency == "CNY"
        assert order.created_at == frames["orders"]["created_at"][0].to_pydatetime()
        assert before <= order.updated_at <= after
        assert tag_sources == {"manual"}

    def test_times_compare_like_times_the_orm_wrote(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        ordered_at = frames["orders"]["ordered_at"]
        cut = ordered_at.sort_values().iloc[len(ordered_at) // 2].to_pydatetime()
        load_frames(engine, frames)

        with Session(engine) as session:
            session.add(
                Order(external_id="O-at-cut", customer_id=1, ordered_at=cut, amount=Decimal(1))
            )
            session.flush()
            later = session.scalar(
                select(func.count()).select_from(Order).where(Order.ordered_at >= cut)
            )
            at_cut = session.scalars(select(Order.external_id).where(Order.ordered_at == cut))
            assert sorted(at_cut) == sorted(
                [*frames["orders"].loc[ordered_at == cut, "external_id"], "O-at-cut"]
            )
        assert later == int((ordered_at >= cut).sum()) + 1

    def test_reports_rows_and_time_per_table(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        report = load_frames(engine, frames)

        assert report.rows == {name: len(frame) for name, frame in frames.items()}
        assert list(report.rows)[:2] == ["teams", "users"]
        assert report.total_rows == sum(len(frame) for frame in frames.values())
        assert set(report.seconds) == set(frames)
        assert report.total_seconds >= sum(report.seconds.values()) > 0
        assert report.rows_per_second > 0

    def test_sets_references_to_rows_loaded_later(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        # renumber terms backwards, so every renewal points at a row inserted after it
        subscriptions = frames["subscriptions"]
        last = int(subscriptions["id"].max()) + 1
        frames["subscriptions"] = subscriptions.assign(
            id=last - subscriptions["id"], renewed_from=last - subscriptions["renewed_from"]
        )
        load_frames(engine, frames)

        with Session(engine) as session:
            managers = dict(session.execute(select(Team.id, Team.manager_id)).all())
            renewals = dict(
                session.execute(select(Subscription.id, Subscription.renewed_from)).all()
            )
        assert managers == dict(
            zip(frames["teams"]["id"], frames["teams"]["manager_id"], strict=True)
        )
        expected = frames["subscriptions"].set_index("id")["renewed_from"]
        assert renewals == {
            key: (None if pd.isna(value) else value) for key, value in expected.items()
        }

    def test_new_rows_get_the_next_id(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)

        with Session(engine) as session:
            order = Order(
                external_id="O-after-load",
                customer_id=1,
                ordered_at=datetime(2025, 7, 1, tzinfo=UTC),
                amount=Decimal("9.90"),
            )
            session.add(order)
            session.flush()
            assert order.id == int(frames["orders"]["id"].max()) + 1
            session.commit()

    def test_negative_amount_loads_nothing(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["orders"].loc[3, "amount"] = -5.0

        with pytest.raises(InvalidInput) as raised:
            load_frames(engine, frames)

        assert raised.value.params["table"] == "orders"
        assert "orders" in str(raised.value)
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_duplicate_external_id_is_a_conflict_and_loads_nothing(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["customers"].loc[7, "external_id"] = frames["customers"].loc[6, "external_id"]

        with pytest.raises(Conflict) as raised:
            load_frames(engine, frames)

        assert raised.value.params["table"] == "customers"
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_missing_parent_row_loads_nothing(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["tickets"].loc[0, "customer_id"] = 10_000

        with pytest.raises(InvalidInput) as raised:
            load_frames(engine, frames)

        assert raised.value.params["table"] == "tickets"
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_unknown_column_names_table_and_column(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["surveys"] = frames["surveys"].assign(mood="happy")

        with pytest.raises(InvalidInput) as raised:
            load_frames(engine, frames)

        assert raised.value.params["table"] == "surveys"
        assert raised.value.params["column"] == "mood"
        assert [problem.column for problem in raised.value.problems] == ["mood"]
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_unknown_table_is_refused(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput, match="leads"):
            load_frames(engine, {"leads": pd.DataFrame({"id": [1]})})

    def test_required_column_must_be_given(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["orders"] = frames["orders"].drop(columns="ordered_at")

        with pytest.raises(InvalidInput) as raised:
            load_frames(engine, frames)

        assert raised.value.params == raised.value.params | {
            "table": "orders",
            "column": "ordered_at",
        }

    def test_unknown_enum_value_names_the_column_and_loads_nothing(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["tickets"].loc[2, "severity"] = "urgent"

        with pytest.raises(InvalidInput, match="urgent") as raised:
            load_frames(engine, frames)

        assert raised.value.params["table"] == "tickets"
        assert raised.value.params["column"] == "severity"
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_naive_timestamps_are_refused(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        frames["surveys"]["answered_at"] = frames["surveys"]["answered_at"].dt.tz_localize(None)

        with pytest.raises(InvalidInput, match="timezone") as raised:
            load_frames(engine, frames)

        assert raised.value.params["column"] == "answered_at"

    def test_a_failed_load_leaves_the_database_usable(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        broken = dict(frames, orders=frames["orders"].assign(quantity=-1))
        with pytest.raises(InvalidInput):
            load_frames(engine, broken)

        report = load_frames(engine, frames)

        assert _counts(engine, list(frames)) == report.rows

    def test_keeps_every_index_and_foreign_key(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        before = _schema(engine, list(frames))

        load_frames(engine, frames)

        assert _schema(engine, list(frames)) == before

    def test_a_failed_load_keeps_every_index_and_foreign_key(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        before = _schema(engine, list(frames))
        frames["tickets"].loc[0, "customer_id"] = 10_000

        with pytest.raises(InvalidInput):
            load_frames(engine, frames)

        assert _schema(engine, list(frames)) == before

    def test_adds_to_tables_that_hold_rows(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        orders = frames.pop("orders")
        load_frames(engine, dict(frames, orders=orders.iloc[:100]))

        report = load_frames(engine, {"orders": orders.iloc[100:]})

        assert report.rows == {"orders": len(orders) - 100}
        table = metadata.tables["orders"]
        assert _stored(engine, table, list(orders.columns)) == _given(orders, table)

    def test_other_tables_and_json_columns(self, engine: Engine) -> None:
        runs = pd.DataFrame(
            {
                "id": [1, 2],
                "as_of": [pd.Timestamp("2025-06-30").date(), pd.Timestamp("2025-07-01").date()],
                "status": ["succeeded", "failed"],
                "counts": [{"customers": 50}, {}],
                "error": [None, "内存不足"],
            }
        )

        load_frames(engine, {"runs": runs})

        with Session(engine) as session:
            stored = session.scalars(select(Run).order_by(Run.id)).all()
        assert [run.as_of for run in stored] == list(runs["as_of"])
        assert [run.counts for run in stored] == [{"customers": 50}, {}]
        assert [run.timings for run in stored] == [{}, {}]
        assert [run.error for run in stored] == [None, "内存不足"]


class TestDeleteCompanyData:
    def test_empties_the_company_and_keeps_the_rest(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)
        with Session(engine) as session:
            session.add(Setting(key="sla", value={"first_contact_hours": 24}, updated_by=1))
            session.add(AuditLog(user_id=1, action="login"))
            session.delete(session.get_one(Order, 1))  # leaves a row in deleted_rows
            session.commit()

        delete_company_data(engine)

        emptied = [table.name for table in company_tables()] + ["deleted_rows"]
        assert set(_counts(engine, emptied).values()) == {0}
        with Session(engine) as session:
            assert session.get_one(Setting, "sla").updated_by is None
            assert session.scalars(select(AuditLog.user_id)).all() == [None]

    def test_empties_every_table_of_a_load(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)

        delete_company_data(engine)

        assert set(frames) <= {table.name for table in company_tables()}
        assert set(_counts(engine, list(frames)).values()) == {0}

    def test_the_company_can_be_loaded_again(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)
        delete_company_data(engine)

        report = load_frames(engine, frames)

        assert _counts(engine, list(frames)) == report.rows

    def test_keeps_triggers_and_foreign_keys_working(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        triggers = _triggers(engine)
        load_frames(engine, frames)

        delete_company_data(engine)

        assert _triggers(engine) == triggers
        load_frames(engine, frames)
        with Session(engine) as session:
            session.delete(session.get_one(Order, 1))
            session.commit()
            assert (
                session.scalar(select(func.count()).select_from(metadata.tables["deleted_rows"]))
                == 1
            )
            session.add(
                Order(
                    id=10**6,
                    external_id="O-orphan",
                    customer_id=10**6,
                    ordered_at=datetime(2025, 7, 1, tzinfo=UTC),
                    amount=Decimal("1.00"),
                )
            )
            with pytest.raises(IntegrityError):
                session.commit()


class TestLoadFramesReplacing:
    def test_replaces_the_company_in_one_load(
        self, engine: Engine, frames: dict[str, pd.DataFrame]
    ) -> None:
        load_frames(engine, frames)
        smaller = company_frames(20, seed=3)

        report = load_frames(engine, smaller, replace=True)

        assert _counts(engine, list(smaller)) == report.rows

    @pytest.mark.parametrize(
        ("table", "column", "value"),
        [("orders", "amount", -5.0), ("tickets", "customer_id", 10_000)],
    )
    def test_a_failed_replacement_keeps_the_old_company(
        self, engine: Engine, frames: dict[str, pd.DataFrame], table: str, column: str, value: Any
    ) -> None:
        load_frames(engine, frames)
        before = _counts(engine, list(frames))
        broken = company_frames(20, seed=3)
        broken[table].loc[0, column] = value

        with pytest.raises(InvalidInput) as raised:
            load_frames(engine, broken, replace=True)

        assert raised.value.params["table"] == table
        assert _counts(engine, list(frames)) == before
