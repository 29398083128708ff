"""The column types of ``store/types.py`` keep values exactly, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from churnradar.domain import BusinessModel
from churnradar.store.tables import Customer, Order, Setting

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_customer(number: int = 1, **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "external_id": f"C{number:04d}",
        "name": f"客户{number}",
        "business_model": BusinessModel.NONCONTRACT,
    }
    return Customer(**(values | fields))


def stored(engine: Engine, row: Any) -> Any:
    """Write ``row``, then read it back in a fresh session (no identity-map shortcut)."""
    with Session(engine) as session:
        session.add(row)
        session.commit()
        key = row.id if hasattr(row, "id") else row.key
    with Session(engine) as session:
        return session.get(type(row), key)


class TestUtcDateTime:
    def test_an_aware_time_comes_back_as_the_same_instant_in_utc(self, engine: Engine) -> None:
        in_shanghai = datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=SHANGHAI)

        customer = stored(engine, make_customer(first_seen=in_shanghai))

        assert customer.first_seen == in_shanghai
        assert customer.first_seen.utcoffset() == timedelta(0)
        assert customer.first_seen.replace(tzinfo=None) == datetime(2024, 3, 1, 0, 30, 15, 123456)

    def test_the_database_holds_the_utc_wall_time(self, engine: Engine) -> None:
        in_shanghai = datetime(2024, 3, 1, 2, 0, tzinfo=SHANGHAI)  # the day before in UTC
        stored(engine, make_customer(first_seen=in_shanghai))

        with engine.connect() as connection:
            raw = connection.execute(
                text("SELECT first_seen FROM customers WHERE external_id = 'C0001'")
            ).scalar_one()
        if isinstance(raw, datetime):  # PostgreSQL: timestamptz, shown in the session's zone
            assert raw.tzinfo is not None
            raw = raw.astimezone(UTC).replace(tzinfo=None)

        assert str(raw).startswith("2024-02-29 18:00:00")

    def test_a_naive_time_is_refused(self, engine: Engine) -> None:
        with Session(engine) as session:
            session.add(make_customer(first_seen=datetime(2024, 3, 1, 8, 30)))
            with pytest.raises(StatementError, match="naive datetime") as raised:
                session.flush()
            assert isinstance(raised.value.orig, ValueError)
            session.rollback()
            assert session.scalar(select(Customer.id)) is None

    def test_none_stays_none(self, engine: Engine) -> None:
        assert stored(engine, make_customer(first_seen=None)).first_seen is None

    def test_defaults_are_aware_utc(self, engine: Engine) -> None:
        before = datetime.now(UTC)

        customer = stored(engine, make_customer())

        assert customer.created_at.tzinfo is not None
        assert before - timedelta(seconds=5) <= customer.created_at <= datetime.now(UTC)


class TestMoney:
    @pytest.mark.parametrize(
        "amount", [Decimal("0.01"), Decimal("1234567.89"), Decimal("9999999999.99")]
    )
    def test_amounts_round_trip_exactly(self, engine: Engine, amount: Decimal) -> None:
        customer = stored(engine, make_customer())

        order = stored(
            engine,
            Order(
                external_id="O0001",
                customer_id=customer.id,
                ordered_at=datetime(2024, 3, 1, tzinfo=UTC),
                amount=amount,
            ),
        )

        assert isinstance(order.amount, Decimal)
        assert order.amount == amount
        assert str(order.amount) == str(amount)

    def test_amounts_sum_exactly_in_sql(self, engine: Engine) -> None:
        customer = stored(engine, make_customer())
        amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("1234567.89")]
        with Session(engine) as session:
            session.add_all(
                Order(
                    external_id=f"O{number}",
                    customer_id=customer.id,
                    ordered_at=datetime(2024, 3, 1, tzinfo=UTC),
                    amount=amount,
                )
                for number, amount in enumerate(amounts)
            )
            session.commit()

        with engine.connect() as connection:
            total = connection.execute(text("SELECT SUM(amount) FROM orders")).scalar_one()

        assert round(Decimal(str(total)), 2) == Decimal("1234568.19")


class TestJsonDocument:
    def test_nested_chinese_documents_round_trip(self, engine: Engine) -> None:
        document = {
            "渠道": ["微信", "电话"],
            "sla": {"首次响应小时": 4, "升级": {"经理": True, "阈值": 0.75}},
            "备注": "续约前 30 天联系关键联系人",
            "empty": [],
            "none": None,
        }

        setting = stored(engine, Setting(key="sla", value=document))

        assert setting.value == document


class TestChineseText:
    def test_names_round_trip(self, engine: Engine) -> None:
        name = "上海浦东新区·张江高科技园区（集团）有限公司"

        customer = stored(engine, make_customer(name=name, city="上海", segment="大客户"))

        assert (customer.name, customer.city, customer.segment) == (name, "上海", "大客户")

    def test_names_can_be_searched(self, engine: Engine) -> None:
        stored(engine, make_customer(1, name="北京字节跳动科技有限公司"))
        stored(engine, make_customer(2, name="杭州阿里巴巴网络技术有限公司"))

        with Session(engine) as session:
            found = session.scalars(select(Customer.name).where(Customer.name.like("%阿里%")))

            assert list(found) == ["杭州阿里巴巴网络技术有限公司"]
