"""What happens around a customer: orders, contract terms, interactions, tickets, surveys,
recorded churn. Each has an external id for idempotent import and an index on
(customer_id, time) for the per-customer time queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy import Text as TextType
from sqlalchemy.orm import Mapped, mapped_column

from churnradar.domain import (
    ChurnSource,
    ChurnType,
    Direction,
    InteractionChannel,
    OrderStatus,
    ReasonCode,
    SubscriptionStatus,
    SurveyKind,
    TicketSeverity,
)
from churnradar.store.tables.base import Base, Timestamped
from churnradar.store.types import Id, Money, UtcDateTime, enum_column


def _customer_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))


class Order(Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_id_ordered_at", "customer_id", "ordered_at"),
        Index("ix_orders_ordered_at", "ordered_at"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    ordered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    product_line: Mapped[str | None] = mapped_column(String(50))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.COMPLETED
    )


class Subscription(Timestamped, Base):
    """One contract term. A renewal is a new row whose ``renewed_from`` names the old term."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_customer_id_started_at", "customer_id", "started_at"),
        Index("ix_subscriptions_ends_at", "ends_at"),
        CheckConstraint("mrr >= 0", name="mrr_non_negative"),
        CheckConstraint("ends_at IS NULL OR ends_at >= started_at", name="term_order"),
        CheckConstraint(
            "cancelled_at IS NULL OR cancelled_at >= started_at", name="cancel_after_start"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    plan: Mapped[str] = mapped_column(String(50))
    product_line: Mapped[str | None] = mapped_column(String(50))
    mrr: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status")
    )
    renewed_from: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[ReasonCode | None] = mapped_column(
        enum_column(ReasonCode, "cancel_reason")
    )


class Interaction(Timestamped, Base):
    """A follow-up (跟进记录) or any other contact: calls, visits, WeChat, logins, feedback."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_id_occurred_at", "customer_id", "occurred_at"),
        Index("ix_interactions_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[InteractionChannel] = mapped_column(
        enum_column(InteractionChannel, "interaction_channel")
    )
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL", use_alter=True), index=True
    )
    summary: Mapped[str | None] = mapped_column(TextType)
    result: Mapped[str | None] = mapped_column(String(50))
    next_step: Mapped[str | None] = mapped_column(TextType)


class Ticket(Timestamped, Base):
    """A service ticket; ``is_complaint`` marks complaints (投诉)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_id_opened_at", "customer_id", "opened_at"),
        Index("ix_tickets_opened_at", "opened_at"),
        CheckConstraint(
            "first_response_at IS NULL OR first_response_at >= opened_at", name="response_order"
        ),
        CheckConstraint("resolved_at IS NULL OR resolved_at >= opened_at", name="resolve_order"),
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
            name="satisfaction_range",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    category: Mapped[str] = mapped_column(String(50))
    severity: Mapped[TicketSeverity] = mapped_column(enum_column(TicketSeverity, "severity"))
    is_complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str | None] = mapped_column(TextType)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)


class Survey(Timestamped, Base):
    __tablename__ = "surveys"
    __table_args__ = (
        Index("ix_surveys_customer_id_answered_at", "customer_id", "answered_at"),
        CheckConstraint(
            "(kind = 'nps' AND score >= 0 AND score <= 10)"
            " OR (kind = 'csat' AND score >= 1 AND score <= 5)",
            name="score_range",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[SurveyKind] = mapped_column(enum_column(SurveyKind, "survey_kind"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(TextType)


class ChurnEvent(Timestamped, Base):
    """Churn the team recorded (``reported``) or that a run detected (``detected``)."""

    __tablename__ = "churn_events"
    __table_args__ = (
        Index("ix_churn_events_customer_id_occurred_at", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _customer_fk()
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[ChurnType] = mapped_column(enum_column(ChurnType, "churn_type"))
    reason: Mapped[ReasonCode] = mapped_column(enum_column(ReasonCode, "reason"))
    source: Mapped[ChurnSource] = mapped_column(
        enum_column(ChurnSource, "source"), default=ChurnSource.REPORTED
    )
    note: Mapped[str | None] = mapped_column(TextType)
