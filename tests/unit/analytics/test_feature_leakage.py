"""Nothing computed as of a date reads what happened on or after it.

Hypothesis writes a small company with events before, at and after a date ``D``, then lets
more happen at or after ``D``: new customers, orders, interactions, tickets, surveys, contacts,
contract terms and churn events, answers and resolutions of open tickets, departures of
contacts, cancellations of terms and churn dates on customers. The feature table and the churn
status as of ``D`` must not change. Orders have product lines and quantities, and the texts of
interactions, tickets and surveys sometimes mention a competitor, so later unit prices and
mentions would show.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis.expr.types as ir
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnradar.analytics import EventTables, InactivityThreshold, churn_status, event_tables
from churnradar.analytics.features import feature_table
from churnradar.domain import (
    BusinessModel,
    ChurnDefinition,
    ChurnSource,
    ChurnType,
    Direction,
    InteractionChannel,
    OrderStatus,
    ReasonCode,
    SurveyKind,
)
from support.events import Row, arrow_tables, at

D = at("2026-03-05 14:00")
DEFINITION = ChurnDefinition(noncontract_inactive_days=60)
THRESHOLD = InactivityThreshold(60)
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Company = dict[str, list[Row]]

# The time columns of each table.
TIMES = {
    "customers": ("first_seen", "churned_at"),
    "contacts": ("active_from", "active_to"),
    "subscriptions": ("started_at", "ends_at", "cancelled_at"),
    "orders": ("ordered_at",),
    "interactions": ("occurred_at",),
    "tickets": ("opened_at", "first_response_at", "resolved_at"),
    "surveys": ("answered_at",),
    "churn_events": ("occurred_at",),
}
# What changes along with a time column set later: a churn date brings its type and reason.
ALONG = {"churned_at": {"churn_type", "churn_reason"}, "cancelled_at": {"cancel_reason"}}
# Every kind of later event the generator must write in each example: a new row of a table,
# or a time column of an existing row set at or after D.
LATER_KINDS = {
    "customers",
    "customers.churned_at",
    "contacts",
    "contacts.active_to",
    "subscriptions",
    "subscriptions.cancelled_at",
    "orders",
    "interactions",
    "tickets",
    "tickets.first_response_at",
    "tickets.resolved_at",
    "surveys",
    "churn_events",
}

# --- the generator ------------------------------------------------------------------------


def _hours_from_d(hours: int) -> datetime:
    return D + timedelta(hours=hours)


# Around D: any hour from 400 days before to 45 days after, D itself and the window starts.
AROUND = st.one_of(
    st.sampled_from([D - timedelta(days=days) for days in (0, 30, 90, 120, 180, 365)]),
    st.integers(-400 * 24, 45 * 24).map(_hours_from_d),
)


def _later(start: datetime | None = None) -> st.SearchStrategy[datetime]:
    """At or after D and after ``start``."""
    first = D if start is None else max(start, D)
    return st.one_of(
        st.just(first), st.integers(0, 120 * 24).map(lambda h: first + timedelta(hours=h))
    )


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _values(enum: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


# Texts of interactions, tickets and surveys: none, plain, or mentioning a competitor.
TEXTS = st.sampled_from([None, "电话回访，一切正常", "客户提到竞品报价更低", "A rival called"])


@st.composite
def _customer(draw: st.DrawFn, number: int, at_: st.SearchStrategy[datetime]) -> Row:
    """Customer 1 is known before D and has not churned by then."""
    first_seen = at_.filter(lambda moment: moment < D) if number == 1 else _maybe(at_)
    churned_at = None if number == 1 else draw(_maybe(at_))
    return {
        "id": number,
        "business_model": draw(_values(BusinessModel)),
        "first_seen": draw(first_seen),
        **(_churn(draw) if churned_at else {}),
        "churned_at": churned_at,
    }


def _churn(draw: st.DrawFn) -> Row:
    return {"churn_type": draw(_values(ChurnType)), "churn_reason": draw(_values(ReasonCode))}


@st.composite
def _order(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    return {
        "customer_id": customer,
        "ordered_at": draw(at_),
        "amount": draw(st.integers(1, 5000)) / 10,
        "status": draw(_values(OrderStatus)),
        "product_line": draw(st.sampled_from([None, "耗材", "工业设备"])),
        "quantity": draw(st.integers(0, 3)),
    }


@st.composite
def _interaction(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    return {
        "customer_id": customer,
        "occurred_at": draw(at_),
        "channel": draw(_values(InteractionChannel)),
        "direction": draw(_values(Direction)),
        "user_id": draw(st.sampled_from([None, 7, 8, 9])),
        "summary": draw(TEXTS),
    }


@st.composite
def _ticket(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    opened = draw(at_)
    after = st.integers(0, 30 * 24).map(lambda h: opened + timedelta(hours=h))
    return {
        "customer_id": customer,
        "opened_at": opened,
        "is_complaint": draw(st.booleans()),
        "first_response_at": draw(_maybe(after)),
        "resolved_at": draw(_maybe(after)),
        "subject": draw(TEXTS),
    }


@st.composite
def _survey(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    kind = draw(_values(SurveyKind))
    score = draw(st.integers(0, 10) if kind == SurveyKind.NPS else st.integers(1, 5))
    return {
        "customer_id": customer,
        "answered_at": draw(at_),
        "kind": kind,
        "score": score,
        "comment": draw(TEXTS),
    }


@st.composite
def _contact(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    since = draw(at_)
    return {
        "customer_id": customer,
        "is_key": draw(st.booleans()),
        "active_from": since,
        "active_to": draw(
            _maybe(st.integers(0, 300 * 24).map(lambda h: since + timedelta(hours=h)))
        ),
    }


@st.composite
def _term(
    draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime], earlier: list[int]
) -> Row:
    start = draw(at_)
    in_days = st.integers(1, 400).map(lambda days: start + timedelta(days=days))
    cancelled_at = draw(_maybe(st.integers(0, 300 * 24).map(lambda h: start + timedelta(hours=h))))
    return {
        "customer_id": customer,
        "started_at": start,
        "ends_at": draw(_maybe(in_days)),
        "mrr": draw(st.integers(10, 2000)),
        "renewed_from": draw(_maybe(st.sampled_from(earlier))) if earlier else None,
        "cancelled_at": cancelled_at,
        "cancel_reason": draw(_values(ReasonCode)) if cancelled_at else None,
    }


@st.composite
def _churn_event(draw: st.DrawFn, customer: int, at_: st.SearchStrategy[datetime]) -> Row:
    return {
        "customer_id": customer,
        "occurred_at": draw(at_),
        "type": draw(_values(ChurnType)),
        "reason": draw(_values(ReasonCode)),
        "source": draw(_values(ChurnSource)),
    }


Make = Callable[..., st.SearchStrategy[Row]]


def _rows(
    draw: st.DrawFn, make: Make, customers: list[int], at_: Any, sizes: tuple[int, int]
) -> list[Row]:
    count = draw(st.integers(*sizes))
    return [draw(make(draw(st.sampled_from(customers)), at_)) for _ in range(count)]


def _numbered(rows: list[Row], first: int = 1) -> list[Row]:
    return [{"id": number, **row} for number, row in enumerate(rows, start=first)]


@dataclass(frozen=True)
class Story:
    before: Company
    after: Company


@st.composite
def stories(draw: st.DrawFn) -> Story:
    """A company as it stands at D, and the same company after more happened at or after D."""
    known = list(range(1, draw(st.integers(1, 4)) + 1))
    customers = [draw(_customer(number, AROUND)) for number in known]
    before: Company = {
        "customers": customers,
        "orders": _numbered(_rows(draw, _order, known, AROUND, (0, 8))),
        "interactions": _numbered(_rows(draw, _interaction, known, AROUND, (0, 8))),
        # the first ticket, contact and term are still open at D, so each can change later
        "tickets": _numbered(
            [
                _waiting(draw(_ticket(1, AROUND.filter(lambda t: t < D)))),
                *_rows(draw, _ticket, known, AROUND, (0, 5)),
            ]
        ),
        "surveys": _numbered(_rows(draw, _survey, known, AROUND, (0, 5))),
        "contacts": _numbered(
            [
                {**draw(_contact(1, AROUND)), "active_to": None},
                *_rows(draw, _contact, known, AROUND, (0, 3)),
            ]
        ),
        "churn_events": _numbered(_rows(draw, _churn_event, known, AROUND, (0, 2))),
    }
    terms: list[Row] = []
    for number in range(1, draw(st.integers(1, 4)) + 1):
        customer = 1 if number == 1 else draw(st.sampled_from(known))
        term = draw(_term(customer, AROUND, [row["id"] for row in terms]))
        if number == 1:
            term |= {"started_at": min(term["started_at"], D - timedelta(days=1))}
            term |= {"cancelled_at": None, "cancel_reason": None}
        terms.append({"id": number, **term})
    before["subscriptions"] = terms
    return Story(before, _go_on(draw, before))


def _waiting(ticket: Row) -> Row:
    return {**ticket, "first_response_at": None, "resolved_at": None}


def _go_on(draw: st.DrawFn, before: Company) -> Company:
    """``before`` after more happened at or after D."""
    newcomer = len(before["customers"]) + 1
    everyone = [*(row["id"] for row in before["customers"]), newcomer]
    later = _later()

    def more(table: str, make: Make) -> list[Row]:
        rows = _rows(draw, make, everyone, later, (1, 3))
        return [*before[table], *_numbered(rows, len(before[table]) + 1)]

    terms = before["subscriptions"]
    new_terms = [
        draw(_term(draw(st.sampled_from(everyone)), later, [row["id"] for row in terms]))
        for _ in range(draw(st.integers(1, 2)))
    ]
    return {
        "customers": [
            *_changed(draw, before["customers"], "churned_at", lambda row: _churn(draw)),
            draw(_customer(newcomer, later)),
        ],
        "orders": more("orders", _order),
        "interactions": more("interactions", _interaction),
        "tickets": _changed(
            draw,
            _changed(draw, more("tickets", _ticket), "first_response_at", start="opened_at"),
            "resolved_at",
            start="opened_at",
        ),
        "surveys": more("surveys", _survey),
        "contacts": _changed(draw, more("contacts", _contact), "active_to", start="active_from"),
        "subscriptions": _changed(
            draw,
            [*terms, *_numbered(new_terms, len(terms) + 1)],
            "cancelled_at",
            lambda row: {"cancel_reason": draw(_values(ReasonCode))},
            start="started_at",
        ),
        "churn_events": more("churn_events", _churn_event),
    }


def _changed(
    draw: st.DrawFn,
    rows: list[Row],
    column: str,
    along: Callable[[Row], Row] = lambda row: {},
    start: str | None = None,
) -> list[Row]:
    """``rows`` with ``column`` set at or after D (and after ``start``) on the first of the
    rows where it was still empty or later than D, and on some of the others."""
    open_ = [index for index, row in enumerate(rows) if row[column] is None or row[column] >= D]
    chosen = {open_[0], *(index for index in open_[1:] if draw(st.booleans()))}
    return [
        {**row, **along(row), column: draw(_later(row[start] if start else None))}
        if index in chosen
        else row
        for index, row in enumerate(rows)
    ]


# --- checking the story -------------------------------------------------------------------


def later_events(story: Story) -> Counter[str]:
    """What ``story.after`` holds beyond ``story.before``, by kind; fails if anything in it
    happened before D or anything recorded before D changed."""
    kinds: Counter[str] = Counter()
    for table, times in TIMES.items():
        old = {row["id"]: row for row in story.before[table]}
        for row in story.after[table]:
            if row["id"] not in old:
                assert all(row[time] is None or row[time] >= D for time in times), row
                kinds[table] += 1
                continue
            was = old[row["id"]]
            for column in {
                key for key in row.keys() | was.keys() if row.get(key) != was.get(key)
            } - _along(row, was):
                assert column in times, (table, column)
                assert was[column] is None or was[column] >= D, (table, was)
                assert row[column] >= D, (table, row)
                kinds[f"{table}.{column}"] += 1
    return kinds


def _along(row: Row, was: Row) -> set[str]:
    return {
        key for column, keys in ALONG.items() if row.get(column) != was.get(column) for key in keys
    }


# --- running the queries ------------------------------------------------------------------


def _computed(query: Callable[[EventTables], ir.Table], company: Company) -> list[dict[str, Any]]:
    """``query`` as of D on ``company``, by customer id."""
    records = query(event_tables(arrow_tables(**company))).to_pyarrow().to_pylist()
    return sorted(records, key=lambda record: record["customer_id"])


def _features(tables: EventTables) -> ir.Table:
    return feature_table(tables, D)


def _status(tables: EventTables) -> ir.Table:
    return churn_status(tables, as_of=D, definition=DEFINITION, threshold=THRESHOLD)


def _assert_same_rows(after: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    """The same customers with the same values: nulls where they were, floats up to the order
    of a sum."""
    assert [row["customer_id"] for row in after] == [row["customer_id"] for row in before]
    for now, then in zip(after, before, strict=True):
        changed = {
            code: (then[code], now[code]) for code in then if not _same(now[code], then[code])
        }
        assert not changed, f"customer {then['customer_id']}: {changed} (before, after)"


def _same(now: Any, then: Any) -> bool:
    if isinstance(now, float) and isinstance(then, float):
        return math.isclose(now, then, rel_tol=1e-12, abs_tol=1e-9)
    return bool(now == then)


# --- the tests ----------------------------------------------------------------------------


class TestStories:
    @EXAMPLES
    @given(story=stories())
    def test_every_kind_of_later_event_happens_and_nothing_earlier_changes(
        self, story: Story
    ) -> None:
        kinds = later_events(story)

        assert set(kinds) == LATER_KINDS


@pytest.mark.slow
class TestNoLeakage:
    @EXAMPLES
    @given(story=stories())
    def test_feature_table_as_of_d_ignores_what_happens_from_d_on(self, story: Story) -> None:
        before = _computed(_features, story.before)
        after = _computed(_features, story.after)

        assert before, "no customer known at D"
        _assert_same_rows(after, before)

    @EXAMPLES
    @given(story=stories())
    def test_churn_status_as_of_d_ignores_what_happens_from_d_on(self, story: Story) -> None:
        before = _computed(_status, story.before)
        after = _computed(_status, story.after)

        assert before, "no customer known at D"
        assert after == before
