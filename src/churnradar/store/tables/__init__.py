"""All tables of the application database (DESIGN.md section 5).

The demo ground truth is registered on the same metadata (so migrations create it) but is
not re-exported here: import it from ``churnradar.store.tables.ground_truth``, from
``churnradar.demo`` only.
"""

from churnradar.store.tables import ground_truth as _ground_truth  # noqa: F401 - registers table
from churnradar.store.tables.base import Base
from churnradar.store.tables.changes import DeletedRow
from churnradar.store.tables.customers import Contact, Customer, CustomerTag
from churnradar.store.tables.events import (
    ChurnEvent,
    Interaction,
    Order,
    Subscription,
    Survey,
    Ticket,
)
from churnradar.store.tables.operations import (
    Alert,
    ImportBatch,
    ModelVersion,
    Notification,
    Rule,
    Run,
    Score,
    Task,
)
from churnradar.store.tables.org import ApiKey, AuditLog, Setting, Team, User

metadata = Base.metadata

__all__ = [
    "Alert",
    "ApiKey",
    "AuditLog",
    "Base",
    "ChurnEvent",
    "Contact",
    "Customer",
    "CustomerTag",
    "DeletedRow",
    "ImportBatch",
    "Interaction",
    "ModelVersion",
    "Notification",
    "Order",
    "Rule",
    "Run",
    "Score",
    "Setting",
    "Subscription",
    "Survey",
    "Task",
    "Team",
    "Ticket",
    "User",
    "metadata",
]
