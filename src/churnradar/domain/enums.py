"""Enumerations shared by every layer.

Values are lowercase English codes, stored as they are in the database (with CHECK
constraints). Labels shown to people live in the i18n catalogues under ``enum.<Class>.<value>``.
"""

from enum import StrEnum


class BusinessModel(StrEnum):
    """How a customer buys: under a contract that must be renewed, or by repeat purchases."""

    CONTRACT = "contract"
    NONCONTRACT = "noncontract"


class CustomerKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


class CustomerStatus(StrEnum):
    """The status the company has recorded; analytics may detect hidden churn on top of it."""

    ACTIVE = "active"
    CHURNED = "churned"
    WON_BACK = "won_back"


class ChurnType(StrEnum):
    """主动 active: the customer said so; 被动 passive: left after a service failure or to a
    competitor; 隐性 hidden: no statement, just silence."""

    ACTIVE = "active"
    PASSIVE = "passive"
    HIDDEN = "hidden"


class ReasonCode(StrEnum):
    """The churn reason taxonomy of the glossary (DESIGN.md section 2)."""

    PRICE = "price"
    SERVICE = "service"
    PRODUCT = "product"
    COMPETITION = "competition"
    ENGAGEMENT = "engagement"
    RELATIONSHIP = "relationship"
    PAYMENT = "payment"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


class ChurnSource(StrEnum):
    REPORTED = "reported"
    DETECTED = "detected"


class RiskTier(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES = "sales"
    SERVICE = "service"
    ANALYST = "analyst"


class InteractionChannel(StrEnum):
    """Where a contact happened. The last four are customer activity recorded by systems."""

    PHONE = "phone"
    VISIT = "visit"
    WECHAT = "wechat"
    EMAIL = "email"
    MEETING = "meeting"
    FEEDBACK = "feedback"
    APP_LOGIN = "app_login"
    WEB_VISIT = "web_visit"
    EMAIL_OPEN = "email_open"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    SYSTEM = "system"


class OrderStatus(StrEnum):
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class SubscriptionStatus(StrEnum):
    """``renewed`` marks a term that ended and was followed by the term that names it in
    ``renewed_from``; ``expired`` ended without renewal; ``cancelled`` ended early."""

    ACTIVE = "active"
    RENEWED = "renewed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TicketSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class SurveyKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"


class AlertSource(StrEnum):
    RULE = "rule"
    MODEL = "model"


class AlertSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlertArm(StrEnum):
    """Random assignment of an alert: treated (a task is created) or held out as control."""

    TREATMENT = "treatment"
    CONTROL = "control"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class TaskStatus(StrEnum):
    OPEN = "open"
    CONTACTED = "contacted"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskOutcome(StrEnum):
    PENDING = "pending"
    RETAINED = "retained"
    CHURNED = "churned"
    UNREACHABLE = "unreachable"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    ORDERS = "orders"
    SUBSCRIPTIONS = "subscriptions"
    INTERACTIONS = "interactions"
    TICKETS = "tickets"
    SURVEYS = "surveys"
    CHURN_EVENTS = "churn_events"


class ModelKind(StrEnum):
    CHURN_CLASSIFIER = "churn_classifier"
    BETA_GEO = "beta_geo"
    GAMMA_GAMMA = "gamma_gamma"
    SHIFTED_BETA_GEOMETRIC = "sbg"
