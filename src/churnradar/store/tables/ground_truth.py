"""The synthetic company's hidden truth. Only ``churnradar.demo`` may import this module
(an import-linter contract enforces it): scoring must never see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from churnradar.domain import ChurnType, ReasonCode
from churnradar.store.tables.base import Base
from churnradar.store.types import UtcDateTime, enum_column


class DemoGroundTruth(Base):
    """Per customer: the true hazard and how (and whether) the customer really churned.

    ``hazard_*`` are daily churn-decision probabilities from the simulator (docs/demo-data.md);
    ``p_churn_90d`` is the true probability of having churned within 90 days of ``as_of`` if
    today's hazard stayed as it is, net of the leaving period (see the docs for the formula).
    """

    __tablename__ = "demo_ground_truth"
    __table_args__ = (
        CheckConstraint("hazard_base >= 0 AND hazard_now >= 0", name="hazard_non_negative"),
        CheckConstraint("p_churn_90d >= 0 AND p_churn_90d <= 1", name="p_range"),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    hazard_base: Mapped[float] = mapped_column(Float)
    hazard_now: Mapped[float] = mapped_column(Float)
    p_churn_90d: Mapped[float] = mapped_column(Float)
    mechanisms_now: Mapped[str] = mapped_column(String(200), default="")
    leaving_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    leaving_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    leaving_cause: Mapped[ReasonCode | None] = mapped_column(enum_column(ReasonCode, "cause"))
    churned: Mapped[bool] = mapped_column(Boolean, default=False)
    churned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    churn_type: Mapped[ChurnType | None] = mapped_column(enum_column(ChurnType, "true_type"))
    churn_reason: Mapped[ReasonCode | None] = mapped_column(enum_column(ReasonCode, "true_reason"))
    won_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    interventions: Mapped[int] = mapped_column(Integer, default=0)
    saved_by_intervention: Mapped[bool] = mapped_column(Boolean, default=False)
