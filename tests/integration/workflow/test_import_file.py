"""Importing messy real-world files into SQLite and PostgreSQL: what is kept, what is
rejected and why, twice the same file, a crash half-way, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from churnradar.config import Settings, load_settings
from churnradar.errors import InvalidInput
from churnradar.store import staging
from churnradar.store.tables import Customer, ImportBatch, Order, User, metadata
from churnradar.workflow.import_file import ImportRequest, import_file
from support.messy_files import complaints_bom_csv, customers_gbk_csv, orders_xlsx

DATA_TABLES = (
    "users",
    "customers",
    "contacts",
    "orders",
    "interactions",
    "tickets",
    "surveys",
    "subscriptions",
    "churn_events",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", locale="zh-CN")


@pytest.fixture
def owners(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(
            insert(User),
            [
                {"username": "zhangwei", "display_name": "张伟", "role": "sales"},
                {"username": "wangfang", "display_name": "王芳", "role": "sales"},
            ],
        )
    return engine


def _snapshot(engine: Engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as connection:
        return {
            name: pd.DataFrame(connection.execute(select(metadata.tables[name])).all())
            for name in DATA_TABLES
        }


def _assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name in DATA_TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def _keys(engine: Engine, table: Any) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(table.external_id)).scalars())


def _rejected_rows(path: Path) -> dict[int, str]:
    """Source row -> reason, from the rejected file (a workbook for Excel sources)."""
    if path.suffix == ".xlsx":
        book = load_workbook(path, read_only=True)
        sheet = book.active
        assert sheet is not None
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [list(row) for row in csv.reader(handle)]
    return {int(row[0]): str(row[-1]) for row in rows[1:]}


def _import(engine: Engine, settings: Settings, kind: str, path: Path, **options: Any) -> Any:
    return import_file(engine, settings, ImportRequest(kind=kind, path=path, **options))


class TestImportFile:
    def test_keeps_exactly_the_valid_rows_and_says_why_of_the_others(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        customers = customers_gbk_csv(tmp_path)
        orders = orders_xlsx(tmp_path)

        first = _import(owners, settings, "customers", customers.path)
        second = _import(owners, settings, "orders", orders.path)

        assert _keys(owners, Customer) == customers.kept
        assert _keys(owners, Order) == orders.kept
        for expected, report in ((customers, first), (orders, second)):
            assert report.status == "partial"
            assert report.rejected == len(expected.rejected)
            assert report.rejected_file is not None
            reasons = _rejected_rows(report.rejected_file)
            assert set(reasons) == set(expected.rejected)
            for row, column in expected.rejected.items():
                assert f"「{column}」" in reasons[row], (row, reasons[row])
                problem = next(p for p in report.problems if p.row == row)
                assert problem.column == column

    def test_reads_values_as_written_in_chinese_files(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        _import(owners, settings, "customers", customers_gbk_csv(tmp_path).path)
        _import(owners, settings, "orders", orders_xlsx(tmp_path).path)

        with owners.connect() as connection:
            amounts = dict(connection.execute(select(Order.external_id, Order.amount)).all())
            statuses = dict(connection.execute(select(Order.external_id, Order.status)).all())
            times = dict(connection.execute(select(Order.external_id, Order.ordered_at)).all())
            names = set(connection.execute(select(Customer.name)).scalars())
            owner_of = dict(
                connection.execute(
                    select(Customer.external_id, User.username).join(
                        User, Customer.owner_id == User.id
                    )
                ).all()
            )
        assert {k: float(v) for k, v in amounts.items()} == {
            "SO-1": 1234.5,
            "SO-2": 20000.0,
            "SO-3": 880.0,
            "SO-6": 15000.0,
        }
        assert statuses["SO-3"] == "refunded"
        assert statuses["SO-6"] == "completed"
        # 10:30 in Shanghai is 02:30 UTC; serial 45700 is 2025-02-12 (midnight in Shanghai)
        assert times["SO-1"].isoformat() == "2025-01-03T02:30:00+00:00"
        assert times["SO-2"].isoformat() == "2025-02-11T16:00:00+00:00"
        assert "北京恒通科技" in names  # the full-width space is gone
        assert owner_of == {"C001": "zhangwei", "C002": "wangfang"}

    def test_the_customer_table_gives_key_contacts_and_follow_ups(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        report = _import(owners, settings, "customers", customers_gbk_csv(tmp_path).path)

        with owners.connect() as connection:
            contacts = connection.execute(
                text(
                    "SELECT c.external_id, k.name, k.phone, k.is_key FROM contacts k"
                    " JOIN customers c ON c.id = k.customer_id ORDER BY 1"
                )
            ).all()
            follow_ups = connection.execute(
                text(
                    "SELECT c.external_id, u.username FROM interactions i"
                    " JOIN customers c ON c.id = i.customer_id"
                    " LEFT JOIN users u ON u.id = i.user_id ORDER BY 1"
                )
            ).all()
        assert [tuple(row) for row in contacts] == [
            ("C001", "李明", "13800000001", True),
            ("C002", "赵强", "13900000002", True),
        ]
        assert [tuple(row) for row in follow_ups] == [
            ("C001", "zhangwei"),
            ("C002", "wangfang"),
            ("C003", None),
        ]
        assert report.counts["contacts"].inserted == 2
        assert report.counts["interactions"].inserted == 3

    def test_importing_the_same_files_again_changes_nothing(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        files = [
            ("customers", customers_gbk_csv(tmp_path)),
            ("orders", orders_xlsx(tmp_path)),
            ("complaints", complaints_bom_csv(tmp_path)),
        ]
        for kind, expected in files:
            _import(owners, settings, kind, expected.path)
        before = _snapshot(owners)

        again = [_import(owners, settings, kind, expected.path) for kind, expected in files]

        _assert_same(before, _snapshot(owners))
        for report in again:
            assert all(c.inserted == 0 and c.updated == 0 for c in report.counts.values())
            assert sum(c.unchanged for c in report.counts.values()) > 0

    def test_a_changed_row_is_updated_in_place(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "orders.csv"
        path.write_text("订单号,客户名称,下单时间,金额\nA1,甲公司,2025-01-01,100\n", "utf-8")
        _import(owners, settings, "orders", path, create_customers=True)
        path.write_text("订单号,客户名称,下单时间,金额\nA1,甲公司,2025-01-01,120\n", "utf-8")

        report = _import(owners, settings, "orders", path)

        assert (report.counts["orders"].updated, report.counts["orders"].inserted) == (1, 0)
        with owners.connect() as connection:
            assert float(connection.execute(select(Order.amount)).scalar_one()) == 120.0

    def test_all_or_nothing_keeps_nothing_of_a_file_with_a_bad_row(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        before = _snapshot(owners)

        report = _import(
            owners, settings, "customers", customers_gbk_csv(tmp_path).path, all_or_nothing=True
        )

        assert report.status == "rejected"
        assert report.counts["customers"].inserted == 0
        _assert_same(before, _snapshot(owners))
        with Session(owners) as session:
            batch = session.scalars(select(ImportBatch)).one()
        assert (batch.status, batch.counts["rejected"]) == ("rejected", 5)

    @pytest.mark.parametrize("failing_table", ["customers", "interactions"])
    def test_a_crash_while_merging_leaves_the_database_as_before(
        self,
        owners: Engine,
        settings: Settings,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        failing_table: str,
    ) -> None:
        _import(
            owners, settings, "complaints", complaints_bom_csv(tmp_path).path, create_customers=True
        )
        before = _snapshot(owners)
        run = staging._Merge.run

        def crash(merge: Any, upsert: bool, **sizes: int) -> Any:
            if merge.target.name == failing_table:
                raise RuntimeError("power cut")
            return run(merge, upsert, **sizes)

        monkeypatch.setattr(staging._Merge, "run", crash)

        with pytest.raises(RuntimeError, match="power cut"):
            _import(owners, settings, "customers", customers_gbk_csv(tmp_path).path)

        _assert_same(before, _snapshot(owners))

    def test_creates_unknown_customers_only_when_asked(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        orders = orders_xlsx(tmp_path)

        refused = _import(owners, settings, "orders", orders.path)
        created = _import(owners, settings, "orders", orders.path, create_customers=True)

        assert refused.counts["orders"].inserted == 0
        assert refused.rejected == 8  # every order names a customer the database lacks
        assert created.counts["customers"].inserted == 4  # C001, C003, C999, 北京恒通科技
        assert _keys(owners, Order) == orders.kept | {"SO-4"}
        with owners.connect() as connection:
            named = connection.execute(
                select(Customer.name).where(Customer.external_id == "C999")
            ).scalar_one()
        assert named == "不存在的公司"

    def test_a_mapping_file_names_columns_the_import_does_not_know(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "odd.csv"
        path.write_text("单据,买家,开单日,总价,备注\nX1,乙公司,2025-06-01,50,加急\n", "utf-8")
        mapping = {
            "单据": "external_id",
            "买家": "客户名称",
            "开单日": "ordered_at",
            "总价": "amount",
            "备注": None,
        }

        report = _import(owners, settings, "orders", path, mapping=mapping, create_customers=True)

        assert report.counts["orders"].inserted == 1
        assert report.mapping.as_dict() == {
            "单据": "external_id",
            "买家": "customer_name",
            "开单日": "ordered_at",
            "总价": "amount",
        }
        assert report.mapping.ignored == ("备注",)

    def test_a_file_without_a_required_column_is_refused_whole(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "orders.csv"
        path.write_text("订单号,客户编号,金额\nA1,C1,100\n", "utf-8")

        with pytest.raises(InvalidInput) as refused:
            _import(owners, settings, "orders", path)

        message = refused.value.render("zh-CN")
        assert "下单时间" in message
        assert "订单号、客户编号、金额" in message

    def test_the_batch_record_says_who_imported_what(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        report = _import(
            owners, settings, "customers", customers_gbk_csv(tmp_path).path, by="zhangwei"
        )

        with Session(owners) as session:
            batch = session.scalars(select(ImportBatch)).one()
            importer = session.scalars(
                select(User.username).where(User.id == batch.created_by)
            ).one()
        assert batch.id == report.batch_id
        assert (batch.kind, batch.status, importer) == ("customers", "partial", "zhangwei")
        assert batch.counts["read"] == 8
        assert batch.counts["customers.inserted"] == 3
        assert batch.mapping["客户名称"] == "name"
        assert {problem["row"] for problem in batch.rejected_rows} == {6, 7, 8, 9, 10}
        assert Path(batch.rejected_file).is_file()
        assert batch.file_sha256 is not None
        assert len(batch.file_sha256) == 64

    def test_a_recorded_churn_marks_its_customer(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        _import(owners, settings, "customers", customers_gbk_csv(tmp_path).path)
        path = tmp_path / "流失.csv"
        path.write_text(
            "客户编号,流失日期,流失类型,流失原因\n"
            "C001,2025-11-01,主动,嫌价格太贵转用竞品\nC002,2025-10-01,被动,服务\n",
            "utf-8",
        )

        _import(owners, settings, "churn_events", path)

        with owners.connect() as connection:
            rows = connection.execute(
                select(
                    Customer.external_id,
                    Customer.status,
                    Customer.churn_type,
                    Customer.churn_reason,
                ).order_by(Customer.external_id)
            ).all()
        assert [tuple(row) for row in rows] == [
            ("C001", "churned", "active", "competition"),
            ("C002", "churned", "passive", "service"),
            ("C003", "active", None, None),
        ]

    def test_renewals_point_to_the_term_they_renew(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "合同.csv"
        path.write_text(
            "合同编号,客户名称,开始日期,到期日期,合同金额,原合同编号\n"
            "K1,丙公司,2024-01-01,2024-12-31,120000,\n"
            "K2,丙公司,2025-01-01,2025-12-31,132000,K1\n"
            "K3,丙公司,2026-01-01,2026-12-31,132000,K0\n",
            "utf-8",
        )

        report = _import(owners, settings, "subscriptions", path, create_customers=True)

        with owners.connect() as connection:
            terms = connection.execute(
                text(
                    "SELECT s.external_id, s.mrr, p.external_id FROM subscriptions s"
                    " LEFT JOIN subscriptions p ON p.id = s.renewed_from ORDER BY 1"
                )
            ).all()
        assert [(k, float(m), p) for k, m, p in terms] == [
            ("K1", 10000.0, None),
            ("K2", 11000.0, "K1"),
        ]
        assert [(p.row, p.code) for p in report.problems] == [(4, "unknown_contract")]

    def test_a_file_without_a_column_keeps_what_is_stored(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        contracts = tmp_path / "合同.csv"
        contracts.write_text(
            "合同编号,客户编号,客户名称,开始日期,到期日期,月费,套餐\n"
            "K1,C001,华东贸易,2025-01-01,2025-12-31,1000,专业版\n",
            "utf-8",
        )
        table = tmp_path / "客户.csv"
        table.write_text("客户编号,客户名称,行业,区域\nC001,华东贸易,贸易,\n", "utf-8")
        _import(owners, settings, "subscriptions", contracts, create_customers=True)
        _import(owners, settings, "customers", table)
        contracts.write_text(
            "合同编号,客户编号,开始日期,到期日期,月费\nK1,C001,2025-01-01,2025-12-31,1000\n",
            "utf-8",
        )
        with owners.begin() as connection:
            connection.execute(text("UPDATE customers SET region = '华东'"))
        before = _snapshot(owners)

        again = [
            _import(owners, settings, "customers", table),
            _import(owners, settings, "subscriptions", contracts),
        ]

        # no business model, status or plan column, an empty region: nothing is overwritten
        _assert_same(before, _snapshot(owners))
        assert again[0].counts["customers"].unchanged == 1
        assert again[1].counts["subscriptions"].unchanged == 1
        with owners.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT c.business_model, c.industry, c.region, s.plan FROM customers c"
                    " JOIN subscriptions s ON s.customer_id = c.id"
                )
            ).one()
        assert tuple(row) == ("contract", "贸易", "华东", "专业版")

    def test_names_that_differ_in_case_or_spaces_create_one_customer_and_one_owner(
        self, owners: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "orders.csv"
        path.write_text(
            "订单号,客户名称,下单时间,金额\n"
            "A1,ACME Ltd,2025-01-01,10\nA2,Acme Ltd,2025-01-02,20\nA3,ACME  Ltd,2025-01-03,30\n",
            "utf-8",
        )
        people = tmp_path / "客户.csv"
        people.write_text("客户编号,客户名称,负责人\nP1,甲,Zhang San\nP2,乙,zhang san\n", "utf-8")

        report = _import(owners, settings, "orders", path, create_customers=True)
        _import(owners, settings, "customers", people, create_owners=True)
        again = _import(owners, settings, "orders", path)

        assert report.counts["customers"].inserted == 1
        assert again.counts["orders"].unchanged == 3  # and the name is not ambiguous
        with owners.connect() as connection:
            users = connection.execute(select(User.username).order_by(User.id)).scalars().all()
        assert users == ["zhangwei", "wangfang", "Zhang San"]
