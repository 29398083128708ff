"""A small company written with the ORM, and the database and mirror contents to compare."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from churnradar.domain import (
    BusinessModel,
    ChurnSource,
    ChurnType,
    CustomerStatus,
    Direction,
    InteractionChannel,
    OrderStatus,
    ReasonCode,
    Role,
    SubscriptionStatus,
    SurveyKind,
    TicketSeverity,
)
from churnradar.store.mirror import mirror_connection
from churnradar.store.mirror_source import MIRRORED_TABLES
from churnradar.store.tables import (
    ChurnEvent,
    Contact,
    Customer,
    Interaction,
    Order,
    Subscription,
    Survey,
    Ticket,
    User,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
MONTHS = 6


@dataclass(frozen=True)
class SmallCompany:
    user_id: int
    customer_ids: list[int]


def moment(rng: random.Random, *, months: int = MONTHS) -> datetime:
    """A time in the first ``months`` months of 2024, with microseconds."""
    return START + timedelta(
        days=rng.randrange(months * 30),
        seconds=rng.randrange(86_400),
        microseconds=rng.randrange(10**6),
    )


def money(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(100, 5_000_000)) / 100


def build_small_company(engine: Engine, *, customers: int = 20, seed: int = 7) -> SmallCompany:
    """Customers with contacts, contracts, orders, follow-ups, tickets, surveys and churn,
    spread over six months; every customer has at least one row in every event table."""
    rng = random.Random(seed)
    with Session(engine) as session:
        user = User(username="rep", display_name="销售 Rep", role=Role.SALES)
        session.add(user)
        session.flush()
        ids = []
        for number in range(customers):
            ids.append(_customer(session, rng, number, user.id))
        session.commit()
        return SmallCompany(user_id=user.id, customer_ids=ids)


def _customer(session: Session, rng: random.Random, number: int, owner_id: int) -> int:
    churned = number % 5 == 4
    contract = number % 2 == 0
    customer = Customer(
        external_id=f"C{number:03d}",
        name=f"客户 {number} 有限公司",
        business_model=BusinessModel.CONTRACT if contract else BusinessModel.NONCONTRACT,
        segment=rng.choice(["smb", "mid", "enterprise", None]),
        region=rng.choice(["华东", "华南", "north"]),
        owner_id=owner_id,
        first_seen=moment(rng, months=1),
        status=CustomerStatus.CHURNED if churned else CustomerStatus.ACTIVE,
        churned_at=moment(rng) if churned else None,
        churn_type=ChurnType.PASSIVE if churned else None,
        churn_reason=ReasonCode.SERVICE if churned else None,
    )
    session.add(customer)
    session.flush()
    key = customer.id
    session.add_all(
        [
            Contact(customer_id=key, name="张三", is_key=True, active_from=moment(rng)),
            Contact(customer_id=key, name="Li Si", email=f"li{number}@example.com"),
            Subscription(
                external_id=f"S{number:03d}",
                customer_id=key,
                plan=rng.choice(["basic", "pro"]),
                mrr=money(rng) if contract else Decimal("0.00"),
                started_at=START,
                ends_at=START + timedelta(days=365) if contract else None,
                status=SubscriptionStatus.ACTIVE,
            ),
        ]
    )
    for index in range(rng.randrange(1, 7)):
        session.add(
            Order(
                external_id=f"O{number:03d}-{index}",
                customer_id=key,
                ordered_at=moment(rng),
                amount=money(rng),
                quantity=rng.randrange(1, 9),
                product_line=rng.choice(["widgets", "gadgets", None]),
                status=rng.choice(list(OrderStatus)),
            )
        )
    for _ in range(rng.randrange(1, 5)):
        session.add(
            Interaction(
                customer_id=key,
                occurred_at=moment(rng),
                channel=rng.choice(list(InteractionChannel)),
                direction=rng.choice(list(Direction)),
                user_id=rng.choice([owner_id, None]),
                summary=rng.choice(["电话回访，客户满意", "visit", None, ""]),
            )
        )
    opened = moment(rng)
    session.add(
        Ticket(
            customer_id=key,
            opened_at=opened,
            category="billing",
            severity=rng.choice(list(TicketSeverity)),
            is_complaint=rng.random() < 0.5,
            first_response_at=opened + timedelta(hours=2),
            resolved_at=rng.choice([opened + timedelta(days=1), None]),
            satisfaction=rng.choice([1, 5, None]),
        )
    )
    kind = rng.choice(list(SurveyKind))
    session.add(
        Survey(
            customer_id=key,
            answered_at=moment(rng),
            kind=kind,
            score=rng.randrange(0, 11) if kind is SurveyKind.NPS else rng.randrange(1, 6),
        )
    )
    session.add(
        ChurnEvent(
            customer_id=key,
            occurred_at=customer.churned_at or moment(rng),
            type=ChurnType.ACTIVE,
            reason=ReasonCode.PRICE,
            source=ChurnSource.REPORTED if churned else ChurnSource.DETECTED,
        )
    )
    return key


def database_rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    """The table's rows as the ORM's column types return them, by id."""
    mirrored = {item.name: item for item in MIRRORED_TABLES}[table]
    with engine.connect() as connection:
        result = connection.execute(select(mirrored.table).order_by(mirrored.table.c.id))
        return [dict(row) for row in result.mappings()]


def mirror_rows(directory: Path, table: str) -> list[dict[str, Any]]:
    """The mirrored rows as DuckDB reads them, by id."""
    connection = mirror_connection(directory)
    try:
        rows: list[dict[str, Any]] = (
            connection.sql(f"SELECT * FROM {table} ORDER BY id").to_arrow_table().to_pylist()
        )
        return rows
    finally:
        connection.close()


def months_of(engine: Engine, table: str, **where: Any) -> set[str]:
    """The month partition files holding the rows of ``table`` matching ``where``."""
    mirrored = {item.name: item for item in MIRRORED_TABLES}[table]
    assert mirrored.time_column is not None
    column = mirrored.table.c[mirrored.time_column]
    statement = select(column).where(
        *(mirrored.table.c[key] == value for key, value in where.items())
    )
    with engine.connect() as connection:
        times = connection.execute(statement).scalars().all()
    return {f"month={moment:%Y-%m}/part.parquet" for moment in times}
