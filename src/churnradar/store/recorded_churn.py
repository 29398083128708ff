"""A churn the team records also marks its customer: status, date, type and reason.

Applied after recorded churn events are merged, to the customers they name, from each one's
latest reported event, unless the customer's stored churn is later (a newer churn, or a
win-back the team entered after it). Rows already saying so are left alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table

from churnradar.store.types import stamped


def mark_recorded_churn(connection: Connection, staged: Table, now: datetime) -> int:
    """Update the customers named by the staged churn events; the number updated."""
    latest = (
        "SELECT e.customer_id, e.occurred_at, e.type, e.reason FROM churn_events e"
        " WHERE e.source = 'reported' AND e.customer_id IN ("
        f"  SELECT c.id FROM customers c JOIN {staged.name} s"
        "   ON c.external_id = s.customer_id__customer)"
        " AND NOT EXISTS (SELECT 1 FROM churn_events later"
        "  WHERE later.customer_id = e.customer_id AND later.source = 'reported'"
        "  AND (later.occurred_at > e.occurred_at"
        "       OR (later.occurred_at = e.occurred_at AND later.id > e.id)))"
    )
    result = connection.execute(
        stamped(
            "UPDATE customers SET status = 'churned', churned_at = l.occurred_at,"
            " churn_type = l.type, churn_reason = l.reason, updated_at = :now"
            f" FROM ({latest}) l WHERE customers.id = l.customer_id"
            " AND (customers.churned_at IS NULL OR customers.churned_at <= l.occurred_at)"
            " AND (customers.status IS DISTINCT FROM 'churned'"
            "  OR customers.churned_at IS DISTINCT FROM l.occurred_at"
            "  OR customers.churn_type IS DISTINCT FROM l.type"
            "  OR customers.churn_reason IS DISTINCT FROM l.reason)"
        ),
        {"now": now},
    )
    return int(result.rowcount or 0)
