"""Measurement: point-in-time features, churn status and metrics, as Ibis expressions.

``import churnradar.analytics as ca``; open the tables with :func:`open_mirror` (or
:func:`event_tables` for Arrow data), then ask: ``ca.churn_status(tables, as_of=..., ...)``.
"""

from churnradar.analytics.churn import (
    ChurnEvidence,
    InactivityThreshold,
    churn_episodes,
    churn_status,
    inactivity_threshold,
    known_customers,
    purchases,
)
from churnradar.analytics.tables import EventTables, connect, event_tables, open_mirror
from churnradar.analytics.time import Granularity, Period, periods_between

__all__ = [
    "ChurnEvidence",
    "EventTables",
    "Granularity",
    "InactivityThreshold",
    "Period",
    "churn_episodes",
    "churn_status",
    "connect",
    "event_tables",
    "inactivity_threshold",
    "known_customers",
    "open_mirror",
    "periods_between",
    "purchases",
]
