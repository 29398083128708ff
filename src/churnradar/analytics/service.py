"""How customers are served and how they feel about it: satisfaction and service levels.

Per-period metrics return one row per period (and per group of ``by``), in period order,
laid out as in :mod:`churnradar.analytics.commerce`: ``period`` (its label),
``period_start`` and ``period_end`` (UTC), ``complete`` (false when the period ends after
``as_of``: the figures are the period so far), the
:class:`~churnradar.analytics.dimensions.Dimension` columns of ``by`` (a row for every
combination held by a customer known before ``as_of``; without ``by``, one row per period),
then the metric columns, named by the slugs of ``domain.metrics``. An event belongs to the
period it happened in, and only what happened before ``as_of`` is known: a survey or a
response given later is not.
Definitions, with the choices behind them, are in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir

from churnradar.analytics.churn import InactivityThreshold, churn_episodes
from churnradar.analytics.dimensions import Dimension
from churnradar.analytics.flows import away
from churnradar.analytics.periods import (
    dimension_names,
    grid,
    in_periods,
    ordered,
    period_calendar,
    period_totals,
    share,
)
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import Period, check_as_of, instant, seconds
from churnradar.domain import ChurnDefinition, SurveyKind

PROMOTER_MIN = 9  # NPS 9-10 recommends
DETRACTOR_MAX = 6  # NPS 0-6 discourages
SATISFIED_MIN = 4  # CSAT 4-5 is satisfied
_HOUR = 3600.0


def satisfaction(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """NPS and CSAT (净推荐值, 客户满意度) of the survey answers given in each period.

    Every answer counts once (a customer who answers twice counts twice); an answer without
    a score is not a response. Columns after the period and ``by`` columns:

    - ``nps_responses``: NPS answers (score 0-10);
    - ``nps``: ``(promoters - detractors) / nps_responses * 100``, promoters scoring 9-10 and
      detractors 0-6, in [-100, 100];
    - ``csat_responses``: CSAT answers (score 1-5);
    - ``csat``: their mean score;
    - ``csat_satisfied_rate``: the share of them scoring 4 or 5;
      the scores and the rate are null without responses.
    """
    check_as_of(as_of)
    names = dimension_names(by)
    calendar = period_calendar(periods, as_of)
    surveys = tables.surveys
    answers = in_periods(
        surveys.filter(surveys.answered_at < instant(as_of), surveys.score.notnull()),
        "answered_at",
        calendar,
    )
    nps = answers.kind == SurveyKind.NPS.value
    csat = answers.kind == SurveyKind.CSAT.value
    facts = answers.group_by(["customer_id", "key"]).aggregate(
        nps_responses=answers.count(where=nps),
        promoters=answers.count(where=nps & (answers.score >= PROMOTER_MIN)),
        detractors=answers.count(where=nps & (answers.score <= DETRACTOR_MAX)),
        csat_responses=answers.count(where=csat),
        csat_points=answers.score.sum(where=csat),
        csat_satisfied=answers.count(where=csat & (answers.score >= SATISFIED_MIN)),
    )
    rows = grid(tables, as_of, calendar, names, facts)
    totals = period_totals(
        rows,
        calendar,
        names,
        **{
            column: rows[column].sum().fill_null(0)
            for column in (
                "nps_responses",
                "promoters",
                "detractors",
                "csat_responses",
                "csat_points",
                "csat_satisfied",
            )
        },
    )
    scored = totals.mutate(
        nps=share(totals.promoters - totals.detractors, totals.nps_responses) * 100,
        csat=share(totals.csat_points, totals.csat_responses),
        csat_satisfied_rate=share(totals.csat_satisfied, totals.csat_responses),
    )
    return ordered(
        scored, names, ["nps_responses", "nps", "csat_responses", "csat", "csat_satisfied_rate"]
    )


def service_levels(
    tables: EventTables,
    *,
    as_of: datetime,
    periods: Sequence[Period],
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
    by: Sequence[Dimension] = (),
) -> ir.Table:
    """Complaints and ticket handling times (投诉率, 平均首次响应/解决时长) per period.

    ``definition`` and ``threshold`` say who had churned, as in
    :func:`~churnradar.analytics.churn.churn_episodes`. Columns after the period and ``by``:

    - ``customers_at_start``: customers active at the start: known since before it and not
      churned then (no churn episode began before the start without a return before it);
    - ``complaints``: tickets marked as complaints opened in the period;
    - ``complaining_customers``: customers active at the start with a complaint in the period;
    - ``complaint_rate``: ``complaining_customers / customers_at_start`` (null without
      customers at the start);
    - ``tickets``: tickets opened in the period, complaints or not;
    - ``mean_first_response_hours``: the mean hours from opening to the first response, over
      those tickets answered before ``as_of``;
    - ``unanswered_tickets``: those tickets without a response before ``as_of``;
    - ``mean_resolution_hours``: the mean hours from opening to resolution, over those
      tickets resolved before ``as_of``;
    - ``unresolved_tickets``: those tickets not resolved before ``as_of``.
    """
    check_as_of(as_of)
    names = dimension_names(by)
    moment = instant(as_of)
    calendar = period_calendar(periods, as_of)
    episodes = churn_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
    away_at_start = (
        episodes.join(calendar, away(episodes, calendar.period_start))
        .select("customer_id", "key", away=ibis.literal(True))
        .distinct()
    )
    tickets = in_periods(
        tables.tickets.filter(tables.tickets.opened_at < moment), "opened_at", calendar
    )
    opened = seconds(tickets.opened_at)
    answered = tickets.first_response_at.notnull() & (tickets.first_response_at < moment)
    resolved = tickets.resolved_at.notnull() & (tickets.resolved_at < moment)
    complaint = tickets.is_complaint.fill_null(False)
    facts = tickets.group_by(["customer_id", "key"]).aggregate(
        complaints=tickets.count(where=complaint),
        tickets=tickets.count(),
        answered=tickets.count(where=answered),
        response_hours=((seconds(tickets.first_response_at) - opened) / _HOUR).sum(where=answered),
        resolved=tickets.count(where=resolved),
        resolution_hours=((seconds(tickets.resolved_at) - opened) / _HOUR).sum(where=resolved),
    )
    rows = grid(tables, as_of, calendar, names, away_at_start, facts)
    active = (rows.since < rows.period_start) & rows.away.isnull()
    totals = period_totals(
        rows,
        calendar,
        names,
        customers_at_start=rows.count(where=active),
        complaining_customers=rows.count(where=active & (rows.complaints > 0)),
        **{
            column: rows[column].sum().fill_null(0)
            for column in ("complaints", "tickets", "answered", "resolved")
        },
        response_hours=rows.response_hours.sum(),
        resolution_hours=rows.resolution_hours.sum(),
    )
    measured = totals.mutate(
        complaint_rate=share(totals.complaining_customers, totals.customers_at_start),
        mean_first_response_hours=share(totals.response_hours, totals.answered),
        unanswered_tickets=totals.tickets - totals.answered,
        mean_resolution_hours=share(totals.resolution_hours, totals.resolved),
        unresolved_tickets=totals.tickets - totals.resolved,
    )
    return ordered(
        measured,
        names,
        [
            "customers_at_start",
            "complaints",
            "complaining_customers",
            "complaint_rate",
            "tickets",
            "mean_first_response_hours",
            "unanswered_tickets",
            "mean_resolution_hours",
            "unresolved_tickets",
        ],
    )
