"""Building the demo company into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from churnradar.config import Settings, load_settings
from churnradar.demo import load_simulator
from churnradar.errors import Conflict, InvalidInput
from churnradar.store.tables import ChurnEvent, Customer, Interaction, Order, Ticket
from churnradar.workflow.demo_build import STATE_FILE, build_demo_company

END = date(2026, 3, 31)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path)


def _count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


class TestBuildDemoCompany:
    def test_loads_every_generated_row(self, engine: Engine, settings: Settings) -> None:
        build = build_demo_company(engine, settings, customers=150, seed=4, end=END, years=1)
        s = build.summary
        assert _count(engine, Customer) == s.customers == 150
        assert _count(engine, Order) == s.orders
        assert _count(engine, Interaction) == s.interactions
        assert _count(engine, Ticket) == s.tickets
        assert build.load.total_rows >= s.orders + s.interactions + s.tickets
        assert build.load.rows_per_second > 0

    def test_recorded_churn_matches_customer_status(
        self, engine: Engine, settings: Settings
    ) -> None:
        build_demo_company(engine, settings, customers=300, seed=4, end=END, years=2)
        with Session(engine) as session:
            churned = session.scalars(select(Customer.id).where(Customer.status == "churned")).all()
            reported = set(session.scalars(select(ChurnEvent.customer_id)).all())
            latest = session.scalar(select(func.max(Order.ordered_at)))
        assert churned
        assert set(churned) <= reported
        assert latest is not None
        assert latest.tzinfo is not None
        assert latest <= datetime(2026, 4, 1, tzinfo=UTC)

    def test_saves_the_simulation_and_the_mirror(self, engine: Engine, settings: Settings) -> None:
        build_demo_company(engine, settings, customers=100, seed=4, end=END, years=1)
        assert load_simulator(settings.data_dir / STATE_FILE).today == END
        assert any(settings.mirror_dir.rglob("*.parquet"))

    def test_rebuilding_replaces_an_earlier_demo(self, engine: Engine, settings: Settings) -> None:
        build_demo_company(engine, settings, customers=120, seed=4, end=END, years=1)
        build_demo_company(engine, settings, customers=80, seed=5, end=END, years=1)
        assert _count(engine, Customer) == 80

    def test_refuses_to_delete_real_customers(self, engine: Engine, settings: Settings) -> None:
        with Session(engine) as session:
            session.add(Customer(external_id="REAL-1", name="真实客户", business_model="contract"))
            session.commit()
        with pytest.raises(Conflict) as error:
            build_demo_company(engine, settings, customers=50, seed=4, end=END, years=1)
        assert "--replace" in str(error.value)
        assert _count(engine, Customer) == 1
        build_demo_company(engine, settings, customers=50, seed=4, end=END, years=1, replace=True)
        assert _count(engine, Customer) == 50

    def test_rejects_a_size_out_of_range(self, engine: Engine, settings: Settings) -> None:
        with pytest.raises(InvalidInput) as error:
            build_demo_company(engine, settings, customers=0, seed=4, end=END)
        assert "--customers" in error.value.render("en")
        assert "--customers" in error.value.render("zh-CN")
