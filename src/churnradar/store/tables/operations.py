"""What churnradar itself produces: runs, scores, rules, alerts, tasks, notifications,
import batches and model versions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from churnradar.domain import (
    AlertArm,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    ImportKind,
    ModelKind,
    NotificationChannel,
    NotificationStatus,
    ReasonCode,
    RiskTier,
    RunStatus,
    TaskOutcome,
    TaskStatus,
)
from churnradar.store.tables.base import Base, Timestamped
from churnradar.store.types import Id, JsonDocument, Money, UtcDateTime, enum_column, utcnow


class Run(Base):
    """One daily run for one ``as_of`` date, with per-step timings and counts."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_as_of_status", "as_of", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    engine: Mapped[str] = mapped_column(String(20), default="duckdb")
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "run_status"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    timings: Mapped[dict[str, float]] = mapped_column(JsonDocument, default=dict)
    counts: Mapped[dict[str, int]] = mapped_column(JsonDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        Index("ix_scores_customer_id_as_of", "customer_id", "as_of"),
        CheckConstraint("health IS NULL OR (health >= 0 AND health <= 100)", name="health_range"),
        CheckConstraint("p_churn IS NULL OR (p_churn >= 0 AND p_churn <= 1)", name="p_churn_range"),
        CheckConstraint("p_alive IS NULL OR (p_alive >= 0 AND p_alive <= 1)", name="p_alive_range"),
        CheckConstraint("clv IS NULL OR clv >= 0", name="clv_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    health: Mapped[float | None] = mapped_column(Float)
    health_engagement: Mapped[float | None] = mapped_column(Float)
    health_purchasing: Mapped[float | None] = mapped_column(Float)
    health_service: Mapped[float | None] = mapped_column(Float)
    health_satisfaction: Mapped[float | None] = mapped_column(Float)
    health_relationship: Mapped[float | None] = mapped_column(Float)
    p_churn: Mapped[float | None] = mapped_column(Float)
    p_alive: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[Decimal | None] = mapped_column(Money())
    risk_tier: Mapped[RiskTier | None] = mapped_column(enum_column(RiskTier, "risk_tier"))
    top_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)


class Rule(Base):
    """One version of a warning rule; the spec is the validated YAML document as JSON."""

    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Alert(Timestamped, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_customer_id_reason_status", "customer_id", "reason", "status"),
        Index("ix_alerts_as_of", "as_of"),
        CheckConstraint(
            "(source = 'rule' AND rule_id IS NOT NULL) OR (source = 'model')", name="rule_source"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[AlertSource] = mapped_column(enum_column(AlertSource, "alert_source"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("rules.id", ondelete="SET NULL"), index=True
    )
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    as_of: Mapped[date] = mapped_column(Date)
    severity: Mapped[AlertSeverity] = mapped_column(enum_column(AlertSeverity, "severity"))
    reason: Mapped[ReasonCode] = mapped_column(enum_column(ReasonCode, "reason"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    arm: Mapped[AlertArm] = mapped_column(enum_column(AlertArm, "arm"))
    status: Mapped[AlertStatus] = mapped_column(
        enum_column(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Task(Timestamped, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_id_status", "assignee_id", "status"),
        Index("ix_tasks_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    playbook: Mapped[str | None] = mapped_column(String(64))
    due_first_contact: Mapped[datetime] = mapped_column(UtcDateTime)
    due_revisit: Mapped[datetime] = mapped_column(UtcDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revisit_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[TaskStatus] = mapped_column(
        enum_column(TaskStatus, "task_status"), default=TaskStatus.OPEN
    )
    outcome: Mapped[TaskOutcome] = mapped_column(
        enum_column(TaskOutcome, "task_outcome"), default=TaskOutcome.PENDING
    )
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome_reason: Mapped[ReasonCode | None] = mapped_column(
        enum_column(ReasonCode, "outcome_reason")
    )


class Notification(Base):
    """The outbox: a message is written here in the run's transaction, sent afterwards."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_column(NotificationChannel, "notification_channel")
    )
    recipient: Mapped[str] = mapped_column(String(255))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_column(ImportKind, "import_kind"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    counts: Mapped[dict[str, int]] = mapped_column(JsonDocument, default=dict)
    mapping: Mapped[dict[str, str]] = mapped_column(JsonDocument, default=dict)
    rejected_rows: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    # the downloadable file of every rejected row; ``rejected_rows`` keeps the first ones
    rejected_file: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (Index("ix_model_versions_kind_champion", "kind", "champion"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[ModelKind] = mapped_column(enum_column(ModelKind, "model_kind"))
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    features: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    artefact: Mapped[bytes | None] = mapped_column(LargeBinary)
    champion: Mapped[bool] = mapped_column(Boolean, default=False)
