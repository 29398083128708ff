"""The customer table (客户管理表), its tags and its contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from churnradar.domain import BusinessModel, ChurnType, CustomerKind, CustomerStatus, ReasonCode
from churnradar.store.tables.base import Base, Timestamped
from churnradar.store.types import Id, UtcDateTime, enum_column, utcnow


class Customer(Timestamped, Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_owner_id_status", "owner_id", "status"),
        # a churn type or reason without a churn date is a half-written churn record
        CheckConstraint(
            "churned_at IS NOT NULL OR (churn_type IS NULL AND churn_reason IS NULL)",
            name="churn_fields_need_date",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CustomerKind] = mapped_column(
        enum_column(CustomerKind, "customer_kind"), default=CustomerKind.COMPANY
    )
    business_model: Mapped[BusinessModel] = mapped_column(
        enum_column(BusinessModel, "business_model")
    )
    segment: Mapped[str | None] = mapped_column(String(50), index=True)
    industry: Mapped[str | None] = mapped_column(String(50))
    region: Mapped[str | None] = mapped_column(String(50), index=True)
    city: Mapped[str | None] = mapped_column(String(50))
    channel: Mapped[str | None] = mapped_column(String(50))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tier: Mapped[str | None] = mapped_column(String(20))
    first_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[CustomerStatus] = mapped_column(
        enum_column(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE
    )
    churned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    churn_type: Mapped[ChurnType | None] = mapped_column(enum_column(ChurnType, "churn_type"))
    churn_reason: Mapped[ReasonCode | None] = mapped_column(enum_column(ReasonCode, "churn_reason"))


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Contact(Timestamped, Base):
    """A person at the customer. ``is_key`` marks the decision maker (关键联系人); a key
    contact who leaves gets ``active_to`` and a successor with a later ``active_from``."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_customer_id_active_from", "customer_id", "active_from"),
        CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to >= active_from",
            name="active_period",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    active_from: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active_to: Mapped[datetime | None] = mapped_column(UtcDateTime)
