"""The database itself refuses bad data, on SQLite and on PostgreSQL.

Each refusal is checked for its kind (unique, foreign key, check) and, where the backend names
it, the constraint; then the session must roll back cleanly and the table must be unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from churnradar.domain import (
    BusinessModel,
    ChurnType,
    Direction,
    InteractionChannel,
    ReasonCode,
    Role,
    SubscriptionStatus,
    SurveyKind,
    TicketSeverity,
)
from churnradar.store.tables import (
    Base,
    ChurnEvent,
    Contact,
    Customer,
    CustomerTag,
    Interaction,
    Order,
    Subscription,
    Survey,
    Ticket,
    User,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)

# How each backend reports the kind of violation.
SQLSTATE = {"unique": "23505", "foreign_key": "23503", "check": "23514"}
SQLITE_ERROR = {
    "unique": "SQLITE_CONSTRAINT_UNIQUE",
    "foreign_key": "SQLITE_CONSTRAINT_FOREIGNKEY",
    "check": "SQLITE_CONSTRAINT_CHECK",
}


# --- factories -----------------------------------------------------------------------------


def make_customer(number: int = 1, **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "external_id": f"C{number:04d}",
        "name": f"测试客户{number}",
        "business_model": BusinessModel.CONTRACT,
    }
    return Customer(**(values | fields))


def make_order(customer_id: int, number: int = 1, **fields: Any) -> Order:
    values: dict[str, Any] = {
        "external_id": f"O{number:06d}",
        "customer_id": customer_id,
        "ordered_at": T0,
        "amount": Decimal("199.00"),
        "quantity": 1,
    }
    return Order(**(values | fields))


def make_subscription(customer_id: int, number: int = 1, **fields: Any) -> Subscription:
    values: dict[str, Any] = {
        "external_id": f"S{number:06d}",
        "customer_id": customer_id,
        "plan": "标准版",
        "mrr": Decimal("1200.00"),
        "started_at": T0,
        "ends_at": T0 + timedelta(days=365),
        "status": SubscriptionStatus.ACTIVE,
    }
    return Subscription(**(values | fields))


def make_ticket(customer_id: int, **fields: Any) -> Ticket:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "opened_at": T0,
        "category": "发票",
        "severity": TicketSeverity.MEDIUM,
    }
    return Ticket(**(values | fields))


def make_survey(customer_id: int, **fields: Any) -> Survey:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "answered_at": T0,
        "kind": SurveyKind.NPS,
        "score": 9,
    }
    return Survey(**(values | fields))


def make_interaction(customer_id: int, **fields: Any) -> Interaction:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "occurred_at": T0,
        "channel": InteractionChannel.PHONE,
        "direction": Direction.OUTBOUND,
        "summary": "电话回访",
    }
    return Interaction(**(values | fields))


def make_user(number: int = 1, **fields: Any) -> User:
    values: dict[str, Any] = {
        "username": f"rep{number}",
        "display_name": f"销售{number}",
        "role": Role.SALES,
    }
    return User(**(values | fields))


def add_all(engine: Engine, *rows: Base) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()


def saved_customer(engine: Engine, number: int = 1, **fields: Any) -> Customer:
    customer = make_customer(number, **fields)
    add_all(engine, customer)
    return customer


def customer_with_everything(engine: Engine, number: int) -> Customer:
    """A customer with one row in every table that hangs off it."""
    customer = saved_customer(engine, number)
    add_all(
        engine,
        make_order(customer.id, number),
        make_subscription(customer.id, number),
        make_interaction(customer.id),
        make_ticket(customer.id),
        make_survey(customer.id),
        ChurnEvent(
            customer_id=customer.id,
            occurred_at=T0,
            type=ChurnType.ACTIVE,
            reason=ReasonCode.PRICE,
        ),
        Contact(customer_id=customer.id, name="王经理", is_key=True, active_from=T0),
        CustomerTag(customer_id=customer.id, tag="重点"),
    )
    return customer


# --- the check -----------------------------------------------------------------------------


def rows_of(connection_or_session: Any, table: type[Base]) -> list[tuple[Any, ...]]:
    ordered = select(table.__table__).order_by(*inspect(table).primary_key)
    return [tuple(row) for row in connection_or_session.execute(ordered)]


def _stored(engine: Engine, table: type[Base]) -> int:
    with Session(engine) as session:
        return len(rows_of(session, table))


def assert_refused(
    engine: Engine,
    table: type[Base],
    write: Callable[[Session], None],
    *,
    kind: str,
    constraint: str,
    sqlite_says: str | None = None,
) -> None:
    """``write`` must fail with a ``kind`` violation of ``constraint`` and leave no trace.

    PostgreSQL names every constraint; SQLite names CHECK constraints but reports a UNIQUE
    violation by its columns (``sqlite_says``) and a foreign key violation by nothing at all.
    """
    with engine.connect() as connection:
        before = rows_of(connection, table)

    def attempt(session: Session) -> None:
        write(session)
        session.flush()

    with Session(engine) as session:
        with pytest.raises(IntegrityError) as raised:
            attempt(session)
        error = raised.value.orig
        if engine.dialect.name == "postgresql":
            assert error.sqlstate == SQLSTATE[kind], error  # type: ignore[union-attr]
            assert error.diag.constraint_name == constraint  # type: ignore[union-attr]
        else:
            assert error.sqlite_errorname == SQLITE_ERROR[kind], error  # type: ignore[union-attr]
            if kind == "check":
                assert str(error) == f"CHECK constraint failed: {constraint}"
            elif sqlite_says is not None:
                assert sqlite_says in str(error)

        session.rollback()
        assert rows_of(session, table) == before
        session.execute(text("SELECT 1"))  # the session is usable again

    with engine.connect() as connection:
        assert rows_of(connection, table) == before


# --- tests ---------------------------------------------------------------------------------


class TestUniqueExternalIds:
    def test_a_second_customer_with_the_same_external_id_is_refused(self, engine: Engine) -> None:
        saved_customer(engine, 1, name="原客户")

        assert_refused(
            engine,
            Customer,
            lambda session: session.add(make_customer(1, name="重复客户")),
            kind="unique",
            constraint="uq_customers_external_id",
            sqlite_says="customers.external_id",
        )

    def test_a_second_order_with_the_same_external_id_is_refused(self, engine: Engine) -> None:
        first, second = saved_customer(engine, 1), saved_customer(engine, 2)
        add_all(engine, make_order(first.id, 7))

        assert_refused(
            engine,
            Order,
            lambda session: session.add(make_order(second.id, 7)),
            kind="unique",
            constraint="uq_orders_external_id",
            sqlite_says="orders.external_id",
        )

    def test_distinct_external_ids_are_accepted(self, engine: Engine) -> None:
        customer = saved_customer(engine, 1)
        add_all(engine, make_customer(2), make_order(customer.id, 1), make_order(customer.id, 2))

        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 2


class TestForeignKeys:
    def test_an_order_for_a_customer_that_does_not_exist_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Order,
            lambda session: session.add(make_order(customer.id + 1000)),
            kind="foreign_key",
            constraint="fk_orders_customer_id_customers",
        )

    def test_a_customer_owned_by_a_user_that_does_not_exist_is_refused(
        self, engine: Engine
    ) -> None:
        assert_refused(
            engine,
            Customer,
            lambda session: session.add(make_customer(owner_id=4242)),
            kind="foreign_key",
            constraint="fk_customers_owner_id_users",
        )


class TestNonNegativeMoneyAndQuantities:
    def test_a_negative_order_amount_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Order,
            lambda session: session.add(make_order(customer.id, amount=Decimal("-0.01"))),
            kind="check",
            constraint="ck_orders_amount_non_negative",
        )

    def test_a_negative_quantity_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Order,
            lambda session: session.add(make_order(customer.id, quantity=-1)),
            kind="check",
            constraint="ck_orders_quantity_non_negative",
        )

    def test_a_negative_mrr_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Subscription,
            lambda session: session.add(make_subscription(customer.id, mrr=Decimal("-100"))),
            kind="check",
            constraint="ck_subscriptions_mrr_non_negative",
        )

    def test_zero_is_accepted(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        add_all(
            engine,
            make_order(customer.id, amount=Decimal("0.00"), quantity=0),
            make_subscription(customer.id, mrr=Decimal("0")),
        )

        assert _stored(engine, Order) == 1
        assert _stored(engine, Subscription) == 1


class TestEnumValues:
    def test_a_business_model_outside_the_enum_is_refused(self, engine: Engine) -> None:
        """Raw SQL, so the ORM's own enum check cannot stop it before the database does."""

        def write(session: Session) -> None:
            session.execute(
                text(
                    "INSERT INTO customers"
                    " (external_id, name, kind, business_model, status, created_at, updated_at)"
                    " VALUES ('C9999', '租赁客户', 'company', 'lease', 'active',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )

        assert_refused(
            engine, Customer, write, kind="check", constraint="ck_customers_business_model"
        )

    def test_a_ticket_severity_outside_the_enum_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        def write(session: Session) -> None:
            session.execute(
                text(
                    "INSERT INTO tickets (customer_id, opened_at, category, severity,"
                    " is_complaint, created_at, updated_at) VALUES (:customer, CURRENT_TIMESTAMP,"
                    " '发票', 'urgent', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"customer": customer.id},
            )

        assert_refused(engine, Ticket, write, kind="check", constraint="ck_tickets_severity")

    def test_the_same_statement_with_a_valid_value_is_accepted(self, engine: Engine) -> None:
        with Session(engine) as session:
            session.execute(
                text(
                    "INSERT INTO customers"
                    " (external_id, name, kind, business_model, status, created_at, updated_at)"
                    " VALUES ('C9999', '合同客户', 'company', 'contract', 'active',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            session.commit()

            customer = session.scalars(select(Customer)).one()

        assert customer.business_model is BusinessModel.CONTRACT


class TestSurveyScoreRange:
    @pytest.mark.parametrize(
        ("kind", "score"),
        [(SurveyKind.NPS, 11), (SurveyKind.NPS, -1), (SurveyKind.CSAT, 0), (SurveyKind.CSAT, 6)],
    )
    def test_a_score_outside_the_scale_is_refused(
        self, engine: Engine, kind: SurveyKind, score: int
    ) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Survey,
            lambda session: session.add(make_survey(customer.id, kind=kind, score=score)),
            kind="check",
            constraint="ck_surveys_score_range",
        )

    def test_the_ends_of_each_scale_are_accepted(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        add_all(
            engine,
            *(
                make_survey(customer.id, kind=kind, score=score)
                for kind, score in [
                    (SurveyKind.NPS, 0),
                    (SurveyKind.NPS, 10),
                    (SurveyKind.CSAT, 1),
                    (SurveyKind.CSAT, 5),
                ]
            ),
        )

        assert _stored(engine, Survey) == 4


class TestTimeOrder:
    def test_a_first_response_before_the_ticket_was_opened_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Ticket,
            lambda session: session.add(
                make_ticket(customer.id, first_response_at=T0 - timedelta(minutes=1))
            ),
            kind="check",
            constraint="ck_tickets_response_order",
        )

    def test_order_is_by_instant_not_by_wall_clock(self, engine: Engine) -> None:
        """09:30 in Shanghai is 01:30 UTC: earlier than a 02:00 UTC opening, though it reads
        later. Both backends must compare instants (SQLite compares the stored UTC text)."""
        customer = saved_customer(engine)
        answered_in_shanghai = datetime(2024, 3, 1, 9, 30, tzinfo=SHANGHAI)

        assert_refused(
            engine,
            Ticket,
            lambda session: session.add(
                make_ticket(customer.id, first_response_at=answered_in_shanghai)
            ),
            kind="check",
            constraint="ck_tickets_response_order",
        )

    def test_a_response_in_the_same_instant_or_later_is_accepted(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        add_all(
            engine,
            make_ticket(customer.id, first_response_at=T0, resolved_at=T0),
            make_ticket(
                customer.id,
                opened_at=datetime(2024, 3, 1, 10, 0, tzinfo=SHANGHAI),  # 02:00 UTC
                first_response_at=datetime(2024, 3, 1, 3, 0, tzinfo=UTC),  # reads earlier
            ),
        )

        assert _stored(engine, Ticket) == 2

    def test_a_subscription_ending_before_it_starts_is_refused(self, engine: Engine) -> None:
        customer = saved_customer(engine)

        assert_refused(
            engine,
            Subscription,
            lambda session: session.add(
                make_subscription(customer.id, ends_at=T0 - timedelta(days=1))
            ),
            kind="check",
            constraint="ck_subscriptions_term_order",
        )


class TestChurnFieldsNeedDate:
    def test_a_churn_type_without_churned_at_is_refused(self, engine: Engine) -> None:
        assert_refused(
            engine,
            Customer,
            lambda session: session.add(make_customer(churn_type=ChurnType.ACTIVE)),
            kind="check",
            constraint="ck_customers_churn_fields_need_date",
        )

    def test_a_churn_reason_without_churned_at_is_refused(self, engine: Engine) -> None:
        assert_refused(
            engine,
            Customer,
            lambda session: session.add(make_customer(churn_reason=ReasonCode.PRICE)),
            kind="check",
            constraint="ck_customers_churn_fields_need_date",
        )

    def test_a_complete_churn_record_is_accepted(self, engine: Engine) -> None:
        saved_customer(
            engine, churned_at=T0, churn_type=ChurnType.PASSIVE, churn_reason=ReasonCode.SERVICE
        )
        saved_customer(engine, 2, churned_at=T0)

        assert _stored(engine, Customer) == 2


class TestDeletingACustomer:
    DEPENDENTS = (Order, Subscription, Interaction, Ticket, Survey, ChurnEvent, Contact)

    def test_cascades_to_everything_that_hangs_off_it(self, engine: Engine) -> None:
        leaving = customer_with_everything(engine, 1)
        staying = customer_with_everything(engine, 2)

        with Session(engine) as session:
            session.execute(delete(Customer).where(Customer.id == leaving.id))
            session.commit()

        with Session(engine) as session:
            for table in (*self.DEPENDENTS, CustomerTag):
                owners = session.scalars(select(table.customer_id)).all()
                assert owners == [staying.id], table.__tablename__


class TestDeletingAUser:
    def test_leaves_their_customers_without_an_owner(self, engine: Engine) -> None:
        leaving, staying = make_user(1), make_user(2)
        add_all(engine, leaving, staying)
        add_all(
            engine, make_customer(1, owner_id=leaving.id), make_customer(2, owner_id=staying.id)
        )

        with Session(engine) as session:
            session.execute(delete(User).where(User.id == leaving.id))
            session.commit()

        with Session(engine) as session:
            owners = dict(session.execute(select(Customer.external_id, Customer.owner_id)).all())

        assert owners == {"C0001": None, "C0002": staying.id}

    def test_keeps_their_interactions_without_a_user(self, engine: Engine) -> None:
        user = make_user()
        add_all(engine, user)
        customer = saved_customer(engine)
        add_all(engine, make_interaction(customer.id, user_id=user.id))

        with Session(engine) as session:
            session.execute(delete(User).where(User.id == user.id))
            session.commit()

        with Session(engine) as session:
            assert session.scalars(select(Interaction.user_id)).all() == [None]
