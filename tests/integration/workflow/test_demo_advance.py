"""Continuing the demo company's life in the database, with retention contacts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from churnradar.config import Settings, load_settings
from churnradar.demo import continue_company, generate_company
from churnradar.errors import Conflict, InvalidInput, NotFound
from churnradar.store.engine import make_engine
from churnradar.store.mirror import mirror_connection
from churnradar.store.tables import Customer, Order, Ticket
from churnradar.store.tables.ground_truth import DemoGroundTruth
from churnradar.workflow.demo_advance import advance_demo_company
from churnradar.workflow.demo_build import build_demo_company

END = date(2026, 3, 31)
SIZE = {"customers": 250, "seed": 9, "years": 1}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path)


@pytest.fixture
def built(engine: Engine, settings: Settings) -> Engine:
    build_demo_company(engine, settings, end=END, **SIZE)
    return engine


def _orders(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        rows = session.execute(select(Order.id, Order.amount, Order.ordered_at)).all()
    frame = pd.DataFrame(rows, columns=["id", "amount", "ordered_at"])
    return frame.astype({"amount": float}).sort_values("id").reset_index(drop=True)


class TestAdvanceDemoCompany:
    def test_the_database_equals_a_company_simulated_that_far(
        self, built: Engine, settings: Settings
    ) -> None:
        result = advance_demo_company(built, settings, days=20)

        expected = continue_company(generate_company(end=END, **SIZE).simulator, 20)
        assert result.as_of == expected.as_of == date(2026, 4, 20)
        orders = expected.frames["orders"][["id", "amount", "ordered_at"]]
        pd.testing.assert_frame_equal(_orders(built), orders.reset_index(drop=True))
        with Session(built) as session:
            statuses = dict(session.execute(select(Customer.id, Customer.status)).all())
            answered = session.scalar(
                select(func.count()).where(Ticket.first_response_at.is_not(None))
            )
        frame = expected.frames["customers"]
        assert statuses == dict(zip(frame["id"], frame["status"], strict=True))
        assert answered == expected.frames["tickets"]["first_response_at"].notna().sum()

    def test_contacts_reach_the_simulated_customers(
        self, built: Engine, settings: Settings
    ) -> None:
        with Session(built) as session:
            first, second = session.scalars(
                select(DemoGroundTruth.customer_id)
                .where(DemoGroundTruth.churned.is_(False))
                .order_by(DemoGroundTruth.customer_id)
                .limit(2)
            ).all()

        result = advance_demo_company(built, settings, days=5, contacted=[first, second, second])

        assert result.contacted == 2
        with Session(built) as session:
            rows = session.execute(
                select(DemoGroundTruth.customer_id, DemoGroundTruth.interventions)
            ).all()
        treated = dict(rows)
        assert treated[first] == treated[second] == 1
        assert sum(treated.values()) == 2

    def test_the_mirror_follows(self, built: Engine, settings: Settings) -> None:
        advance_demo_company(built, settings, days=15)

        with mirror_connection(settings.mirror_dir) as duck:
            query = "SELECT count(*) AS n, max(ordered_at) AS latest FROM orders"
            mirrored = duck.sql(query).to_arrow_table().to_pylist()[0]
        with Session(built) as session:
            stored = session.execute(select(func.count(), func.max(Order.ordered_at))).one()
        assert mirrored["n"] == stored[0]
        assert mirrored["latest"] == stored[1]

    def test_the_app_can_add_rows_after_an_advance(self, built: Engine, settings: Settings) -> None:
        advance_demo_company(built, settings, days=3)
        with Session(built) as session:
            top = session.scalar(select(func.max(Order.id)))
            order = Order(
                external_id="APP-1",
                customer_id=1,
                ordered_at=datetime(2026, 4, 5, tzinfo=UTC),
                amount=Decimal("10.00"),
            )
            session.add(order)
            session.commit()
            assert top is not None
            assert order.id > top

    def test_advancing_twice_continues_where_it_stopped(
        self, built: Engine, settings: Settings
    ) -> None:
        first = advance_demo_company(built, settings, days=3)
        second = advance_demo_company(built, settings, days=4)

        assert second.start == date(2026, 4, 4)
        assert first.as_of == date(2026, 4, 3)
        assert second.as_of == date(2026, 4, 7)

    def test_refuses_a_simulation_that_belongs_to_another_database(
        self, built: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        other = load_settings(data_dir=tmp_path / "other")
        elsewhere = make_engine(make_url(f"sqlite:///{tmp_path / 'other.db'}"))
        build_demo_company(elsewhere, other, customers=50, seed=1, end=date(2026, 1, 31))
        elsewhere.dispose()

        with pytest.raises(Conflict):
            advance_demo_company(built, other, days=1)

    def test_refuses_bad_requests(self, built: Engine, settings: Settings, engine: Engine) -> None:
        with pytest.raises(InvalidInput):
            advance_demo_company(built, settings, days=0)
        with pytest.raises(InvalidInput) as error:
            advance_demo_company(built, settings, days=1, contacted=[99_999])
        assert "99999" in error.value.render("zh-CN")


class TestAdvanceWithoutDemo:
    def test_says_to_build_one_first(self, engine: Engine, settings: Settings) -> None:
        with pytest.raises(NotFound) as error:
            advance_demo_company(engine, settings, days=1)
        assert "churnradar demo" in str(error.value)
