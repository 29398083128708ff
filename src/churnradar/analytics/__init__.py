"""Measurement: point-in-time features, churn status and metrics, as Ibis expressions.

``import churnradar.analytics as ca``; open the tables with :func:`open_mirror` (or
:func:`event_tables` for Arrow data), then ask, for example::

    tables = ca.open_mirror(settings.mirror_dir)
    threshold = ca.inactivity_threshold(tables, as_of=as_of, definition=definition)
    month = ca.Period.parse("2026-10", "Asia/Shanghai")
    ca.churn_rates(
        tables, as_of=as_of, periods=[month], by=[ca.Dimension.REGION],
        definition=definition, threshold=threshold,
    ).to_pyarrow()

Every function returns an Ibis expression and reads only what happened before ``as_of``.
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
from churnradar.analytics.cohorts import cohort_retention
from churnradar.analytics.commerce import (
    clv_summary,
    customer_value,
    repurchase,
    revenue_retention,
)
from churnradar.analytics.dimensions import Dimension, customer_dimensions
from churnradar.analytics.features import feature_table
from churnradar.analytics.flows import churn_losses, churn_rates, churn_reasons
from churnradar.analytics.segments import customer_segments, rfm_scores, value_tiers
from churnradar.analytics.service import satisfaction, service_levels
from churnradar.analytics.tables import EventTables, connect, event_tables, open_mirror
from churnradar.analytics.time import Granularity, Period, periods_between

__all__ = [
    "ChurnEvidence",
    "Dimension",
    "EventTables",
    "Granularity",
    "InactivityThreshold",
    "Period",
    "churn_episodes",
    "churn_losses",
    "churn_rates",
    "churn_reasons",
    "churn_status",
    "clv_summary",
    "cohort_retention",
    "connect",
    "customer_dimensions",
    "customer_segments",
    "customer_value",
    "event_tables",
    "feature_table",
    "inactivity_threshold",
    "known_customers",
    "open_mirror",
    "periods_between",
    "purchases",
    "repurchase",
    "revenue_retention",
    "rfm_scores",
    "satisfaction",
    "service_levels",
    "value_tiers",
]
