"""The feature table: every catalogue feature for every customer, as of one date.

One Ibis expression: each event table is filtered to what happened before ``as_of``,
aggregated once per customer (conditional aggregates for the windows), and left-joined to
the customers known then. The meanings are in ``domain.features``; this module computes
exactly the codes of ``FEATURE_CODES`` in that order, after ``customer_id``.

"Latest" is last by time, then id (the highest ``position``, a row number over the window that
also orders the ``lag``): events at the same instant have one latest on every engine, and the
latest amount, score or rep and the latest gap or change come from the same row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
from ibis import _

from churnradar.analytics.churn import known_customers, purchases
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import DAY_SECONDS, check_as_of, instant, seconds
from churnradar.domain import Direction, InteractionChannel, SurveyKind
from churnradar.domain.features import FEATURE_CODES, FEATURES, Unit

WINDOWS = (30, 90, 180, 365)
FOLLOW_UP_CHANNELS = tuple(
    channel.value
    for channel in (
        InteractionChannel.PHONE,
        InteractionChannel.VISIT,
        InteractionChannel.WECHAT,
        InteractionChannel.EMAIL,
        InteractionChannel.MEETING,
    )
)
DIGITAL_CHANNELS = tuple(
    channel.value
    for channel in (
        InteractionChannel.APP_LOGIN,
        InteractionChannel.WEB_VISIT,
        InteractionChannel.EMAIL_OPEN,
    )
)
_HOUR = 3600.0
# Counts, flags and sums are 0 for a customer with nothing to count; the rest stay null.
ZERO_WHEN_NOTHING = tuple(
    feature.code
    for feature in FEATURES
    if feature.unit in (Unit.COUNT, Unit.FLAG)
    or feature.code.startswith("revenue_")
    or feature.code == "current_mrr"
)


def feature_table(tables: EventTables, as_of: datetime) -> ir.Table:
    """One row per customer known before ``as_of``: ``customer_id`` and the catalogue
    features (``domain.features.FEATURE_CODES``, in that order)."""
    check_as_of(as_of)
    now = seconds(instant(as_of))
    parts = [
        _purchasing(tables, as_of, now),
        _engagement(tables, as_of, now),
        _service(tables, as_of, now),
        _satisfaction(tables, as_of),
        _relationship(tables, as_of),
        _contract(tables, as_of, now),
    ]
    table = known_customers(tables, as_of)
    for part in parts:
        table = table.left_join(part, "customer_id").drop("customer_id_right")
    derived = table.mutate(
        tenure_days=(now - seconds(table.since)) / DAY_SECONDS,
        purchase_cycle_ratio=_ratio(
            table.days_since_last_order, table.usual_purchase_interval_days
        ),
        activity_ratio=_ratio(table.interactions_30d, table.interactions_prior_90d / 3),
        digital_activity_ratio=_ratio(
            table.digital_activity_30d, table.digital_activity_prior_90d / 3
        ),
        inbound_change_90d=table.inbound_90d.fill_null(0) - table.inbound_prior_90d.fill_null(0),
    )
    zeros = {code: derived[code].fill_null(0) for code in ZERO_WHEN_NOTHING}
    return derived.mutate(**zeros).select("customer_id", *FEATURE_CODES)


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator``, null when the denominator is 0 or unknown."""
    return ibis.cases(
        (denominator > 0, numerator.cast("float64") / denominator), else_=ibis.null("float64")
    )


def _since(as_of: datetime, days: int) -> ir.TimestampScalar:
    return instant(as_of - timedelta(days=days))


def _days_since(now: ir.FloatingValue, latest: ir.TimestampValue) -> ir.FloatingValue:
    return (now - seconds(latest)) / DAY_SECONDS


def _purchasing(tables: EventTables, as_of: datetime, now: ir.FloatingValue) -> ir.Table:
    bought = purchases(tables, as_of)
    order = ibis.window(group_by="customer_id", order_by=[bought.ordered_at, bought.id])
    rows = bought.mutate(
        amount=bought.amount.cast("float64"),
        gap_days=(seconds(bought.ordered_at) - seconds(bought.ordered_at.lag().over(order)))
        / DAY_SECONDS,
        position=ibis.row_number().over(order),
    )
    windows: dict[str, ir.Value] = {}
    for days in WINDOWS:
        inside = rows.ordered_at >= _since(as_of, days)
        windows[f"orders_{days}d"] = rows.count(where=inside)
        windows[f"revenue_{days}d"] = rows.amount.sum(where=inside).fill_null(0)
    summary = rows.group_by("customer_id").aggregate(
        latest_order_at=rows.ordered_at.max(),
        orders_total=rows.count(),
        revenue_total=rows.amount.sum(),
        last_order_amount=rows.amount.argmax(rows.position),
        avg_order_amount_365d=rows.amount.mean(where=rows.ordered_at >= _since(as_of, 365)),
        # orders within a day of the previous one are one purchase occasion, not a cycle
        usual_purchase_interval_days=rows.gap_days.median(where=rows.gap_days >= 1),
        last_purchase_interval_days=rows.gap_days.argmax(rows.position),
        **windows,
    )
    earlier = summary.orders_total - 1
    return summary.mutate(
        days_since_last_order=_days_since(now, summary.latest_order_at),
        last_order_amount_ratio=_ratio(
            summary.last_order_amount,
            ibis.cases(
                (earlier > 0, (summary.revenue_total - summary.last_order_amount) / earlier),
                else_=ibis.null("float64"),
            ),
        ),
    ).drop("latest_order_at")


def _engagement(tables: EventTables, as_of: datetime, now: ir.FloatingValue) -> ir.Table:
    rows = tables.interactions.filter(_.occurred_at < instant(as_of))
    follow_up = (rows.direction == Direction.OUTBOUND.value) & rows.channel.isin(FOLLOW_UP_CHANNELS)
    inbound = rows.direction == Direction.INBOUND.value
    digital = rows.channel.isin(DIGITAL_CHANNELS)
    last_30 = rows.occurred_at >= _since(as_of, 30)
    prior_90 = (rows.occurred_at >= _since(as_of, 120)) & ~last_30
    last_90 = rows.occurred_at >= _since(as_of, 90)
    prior_inbound = (rows.occurred_at >= _since(as_of, 180)) & ~last_90
    summary = rows.group_by("customer_id").aggregate(
        latest_follow_up_at=rows.occurred_at.max(where=follow_up),
        latest_inbound_at=rows.occurred_at.max(where=inbound),
        follow_ups_90d=rows.count(where=follow_up & last_90),
        interactions_30d=rows.count(where=last_30),
        interactions_prior_90d=rows.count(where=prior_90),
        digital_activity_30d=rows.count(where=digital & last_30),
        digital_activity_prior_90d=rows.count(where=digital & prior_90),
        inbound_90d=rows.count(where=inbound & last_90),
        inbound_prior_90d=rows.count(where=inbound & prior_inbound),
    )
    return summary.mutate(
        days_since_last_follow_up=_days_since(now, summary.latest_follow_up_at),
        days_since_last_inbound=_days_since(now, summary.latest_inbound_at),
    ).drop("latest_follow_up_at", "latest_inbound_at")


def _service(tables: EventTables, as_of: datetime, now: ir.FloatingValue) -> ir.Table:
    moment = instant(as_of)
    tickets = tables.tickets.filter(_.opened_at < moment)
    order = ibis.window(group_by="customer_id", order_by=[tickets.opened_at, tickets.id])
    rows = tickets.mutate(position=ibis.row_number().over(order))
    opened = seconds(rows.opened_at)
    responded = rows.first_response_at.notnull() & (rows.first_response_at < moment)
    resolved = rows.resolved_at.notnull() & (rows.resolved_at < moment)
    last_365 = rows.opened_at >= _since(as_of, 365)
    complaint = rows.is_complaint.fill_null(False)
    wait_until = ibis.cases((responded, seconds(rows.first_response_at)), else_=now)
    return rows.group_by("customer_id").aggregate(
        tickets_90d=rows.count(where=rows.opened_at >= _since(as_of, 90)),
        complaints_90d=rows.count(where=complaint & (rows.opened_at >= _since(as_of, 90))),
        complaints_365d=rows.count(where=complaint & last_365),
        open_complaints=rows.count(where=complaint & ~resolved),
        latest_complaint_wait_hours=((wait_until - opened) / _HOUR).argmax(
            rows.position, where=complaint
        ),
        mean_first_response_hours_365d=((seconds(rows.first_response_at) - opened) / _HOUR).mean(
            where=responded & last_365
        ),
        mean_resolution_hours_365d=((seconds(rows.resolved_at) - opened) / _HOUR).mean(
            where=resolved & last_365
        ),
    )


def _satisfaction(tables: EventTables, as_of: datetime) -> ir.Table:
    rows = tables.surveys.filter(_.answered_at < instant(as_of))
    order = ibis.window(group_by=["customer_id", "kind"], order_by=[rows.answered_at, rows.id])
    scored = rows.mutate(
        score=rows.score.cast("float64"),
        change=(rows.score - rows.score.lag().over(order)).cast("float64"),
        position=ibis.row_number().over(order),
    )
    nps = scored.kind == SurveyKind.NPS.value
    csat = scored.kind == SurveyKind.CSAT.value
    return scored.group_by("customer_id").aggregate(
        latest_nps=scored.score.argmax(scored.position, where=nps),
        nps_change=scored.change.argmax(scored.position, where=nps),
        latest_csat=scored.score.argmax(scored.position, where=csat),
        csat_change=scored.change.argmax(scored.position, where=csat),
    )


def _relationship(tables: EventTables, as_of: datetime) -> ir.Table:
    moment, window_start = instant(as_of), _since(as_of, 90)
    contacts = tables.contacts
    left = contacts.filter(
        contacts.is_key.fill_null(False),
        contacts.active_to < moment,
        contacts.active_to >= window_start,
    )
    key_changes = left.group_by("customer_id").aggregate(key_contact_changed_90d=_.count() > 0)
    outbound = tables.interactions.filter(
        _.occurred_at < moment,
        _.direction == Direction.OUTBOUND.value,
        _.channel.isin(FOLLOW_UP_CHANNELS),
        _.user_id.notnull(),
    )
    order = ibis.window(group_by="customer_id", order_by=[outbound.occurred_at, outbound.id])
    follow_ups = outbound.mutate(position=ibis.row_number().over(order))
    recent = follow_ups.occurred_at >= window_start
    reps = follow_ups.group_by("customer_id").aggregate(
        rep_now=follow_ups.user_id.argmax(follow_ups.position, where=recent),
        rep_before=follow_ups.user_id.argmax(follow_ups.position, where=~recent),
    )
    changed = reps.select(
        "customer_id",
        owner_changed_90d=(reps.rep_now != reps.rep_before).fill_null(False),
    )
    return changed.outer_join(key_changes, "customer_id").select(
        customer_id=ibis.coalesce(_.customer_id, _.customer_id_right),
        key_contact_changed_90d=_.key_contact_changed_90d.fill_null(False).cast("int64"),
        owner_changed_90d=_.owner_changed_90d.fill_null(False).cast("int64"),
    )


def _contract(tables: EventTables, as_of: datetime, now: ir.FloatingValue) -> ir.Table:
    moment = instant(as_of)
    terms = tables.subscriptions.filter(_.started_at < moment)
    in_force = (terms.ends_at.isnull() | (terms.ends_at >= moment)) & (
        terms.cancelled_at.isnull() | (terms.cancelled_at >= moment)
    )
    summary = terms.group_by("customer_id").aggregate(
        has_contract=(terms.count(where=in_force) > 0).cast("int64"),
        earliest_end=terms.ends_at.min(where=in_force),
        renewals=terms.count(where=terms.renewed_from.notnull()),
        current_mrr=terms.mrr.cast("float64").sum(where=in_force).fill_null(0),
    )
    return summary.mutate(
        days_to_contract_end=(seconds(summary.earliest_end) - now) / DAY_SECONDS
    ).drop("earliest_end")
