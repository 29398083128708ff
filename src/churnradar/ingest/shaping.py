"""The rules of each kind of file that involve more than one cell of a row.

Defaults that depend on other cells (a ticket without severity is ``medium``; an interaction's
direction follows its channel), order between times (resolved after opened), contract values
turned into monthly revenue, and the rows a row implies besides its own: the customer table's
key contact and latest follow-up, a survey row that answers both NPS and satisfaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from churnradar.ingest.fields import Kind
from churnradar.ingest.problems import ProblemLog, Where, flagged

if TYPE_CHECKING:
    from churnradar.ingest.validate import ImportOptions

_SYSTEM_CHANNELS = ("app_login", "web_visit", "email_open")
# stored data, so one text for every reader: a summary in the importer's language would change
# the row whenever someone with another language imports the same table again
FOLLOW_UP_SUMMARY = "客户表中的最近跟进 (last follow-up, from the customer table)"
_AVERAGE_MONTH_DAYS = 365.25 / 12


@dataclass
class Shaped:
    """A chunk's rows for the kind's table, with what they imply for other tables.

    ``values`` are table columns (and reference fields until they are resolved), ``refs`` the
    keys the store resolves into id columns (``<column>__<target>``), ``keys`` the external ids
    (None until derived). ``parents`` are rows to create before (customers, users named but
    unknown), ``children`` rows to write after, with the chunk position they come from in
    ``_position`` and a ``_suffix`` that, appended to their row's key, makes their own key.
    """

    values: dict[str, pd.Series]
    refs: dict[str, pd.Series] = field(default_factory=dict)
    keys: pd.Series | None = None
    parents: dict[str, pd.DataFrame] = field(default_factory=dict)
    children: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    # values for empty cells and absent columns of new rows; a stored row keeps its own
    defaults: dict[str, object] = field(default_factory=dict)

    def add_parent(self, table: str, frame: pd.DataFrame) -> None:
        """Rows to insert before this chunk's rows if a kept row names them (their first
        column is the key the rows refer to them by); never updates what exists."""
        self.parents[table] = frame


def shape(
    kind: Kind,
    typed: dict[str, pd.Series],
    cells: dict[str, pd.Series],
    options: ImportOptions,
    log: ProblemLog,
) -> Shaped:
    """The rows of ``typed`` with the kind's defaults and cross-cell rules applied."""
    size = len(log.rows)
    values = dict(typed)
    shaped = Shaped(values)
    shaped.defaults.update(kind.defaults)
    if "external_id" in values:
        shaped.keys = values.pop("external_id")
    rules = {
        "customers": _customers,
        "contacts": _contacts,
        "orders": _orders,
        "subscriptions": _subscriptions,
        "interactions": _interactions,
        "tickets": _tickets,
        "surveys": _surveys,
        "churn_events": _churn_events,
    }
    rules[kind.table](_Rows(shaped, cells, options, log, size))
    return shaped


class _Rows(NamedTuple):
    """What a kind's rules work on: the chunk's rows and where to report problems."""

    shaped: Shaped
    cells: dict[str, pd.Series]
    options: ImportOptions
    log: ProblemLog
    size: int


def _where(log: ProblemLog, name: str) -> Where:
    """The column of field ``name`` as the file names it."""
    return Where(log.headers.get(name, name), name)


def _not_before(rows: _Rows, later: str, earlier: str, code: str) -> None:
    """Flag rows where ``later`` is before ``earlier`` (both present)."""
    after, before = rows.shaped.values.get(later), rows.shaped.values.get(earlier)
    if after is None or before is None:
        return
    wrong = (after < before).fillna(False).to_numpy(dtype=bool)
    rows.log.add(
        _where(rows.log, later),
        flagged(wrong, code),
        rows.cells[later],
        row_params={"other": rows.cells[earlier]},
    )


def _fill(rows: _Rows, column: str, default: object) -> None:
    """``default`` for the rows this import inserts, where the file has no value: an update
    never overwrites a stored value with a default."""
    rows.shaped.defaults[column] = default


def _customers(rows: _Rows) -> None:
    values = rows.shaped.values
    _fill(rows, "kind", "company")
    _fill(rows, "business_model", "noncontract")
    _fill(rows, "status", "active")
    dated = values.get("churned_at")
    for name in ("churn_type", "churn_reason"):
        given = values.get(name)
        if given is None:
            continue
        undated = given.notna() & (dated.isna() if dated is not None else True)
        rows.log.add(
            _where(rows.log, name),
            flagged(undated, "churn_needs_date"),
            rows.cells[name],
        )
    contact = values.pop("key_contact", None)
    details = {
        column: values.pop(f"key_contact_{column}", None) for column in ("phone", "title", "email")
    }
    if contact is not None:
        present = contact.notna().to_numpy()
        contacts = pd.DataFrame({"name": contact, "is_key": True, "_suffix": ":key-contact"})
        for column, series in details.items():
            if series is not None:
                contacts[column] = series
        contacts["_position"] = np.arange(rows.size)
        rows.shaped.children.append(("contacts", contacts[present]))
    follow_up = values.pop("last_follow_up", None)
    channel = values.pop("last_follow_up_channel", None)
    if follow_up is not None:
        present = follow_up.notna().to_numpy()
        chosen = channel.fillna("phone") if channel is not None else "phone"
        interactions = pd.DataFrame(
            {
                "occurred_at": follow_up,
                "channel": chosen,
                "direction": "outbound",
                "summary": FOLLOW_UP_SUMMARY,
                "_suffix": ":follow-up:" + follow_up.dt.strftime("%Y%m%d%H%M").fillna(""),
                "_position": np.arange(rows.size),
            }
        )
        if "owner" in values:  # the owner did the follow-up; resolved with the owner
            interactions["_owner"] = True
        rows.shaped.children.append(("interactions", interactions[present]))


def _contacts(rows: _Rows) -> None:
    _fill(rows, "is_key", False)
    _not_before(rows, "active_to", "active_from", "ends_before_start")


def _orders(rows: _Rows) -> None:
    _fill(rows, "currency", rows.options.currency)
    _fill(rows, "quantity", 1)
    _fill(rows, "status", "completed")


def _subscriptions(rows: _Rows) -> None:
    values = rows.shaped.values
    _fill(rows, "currency", rows.options.currency)
    _fill(rows, "plan", "standard")
    _not_before(rows, "ends_at", "started_at", "ends_before_start")
    _not_before(rows, "cancelled_at", "started_at", "ends_before_start")
    started = values["started_at"]
    ends = values.get("ends_at")
    contract_value = values.pop("contract_value", None)
    annual_value = values.pop("annual_value", None)
    mrr = values.get("mrr", pd.Series(np.nan, index=range(rows.size)))
    if annual_value is not None:
        mrr = mrr.fillna((annual_value / 12).round(2))
    if contract_value is not None:
        if ends is None:
            months = pd.Series(np.nan, index=range(rows.size))
        else:
            months = ((ends - started).dt.total_seconds() / 86400 / _AVERAGE_MONTH_DAYS).round()
        from_value = (contract_value / months.where(months >= 1)).round(2)
        needs_end = contract_value.notna() & mrr.isna() & from_value.isna()
        rows.log.add(
            _where(rows.log, "contract_value"),
            flagged(needs_end, "contract_value_needs_term"),
            rows.cells["contract_value"],
        )
        mrr = mrr.fillna(from_value)
    values["mrr"] = mrr
    status = values.get("status", pd.Series(pd.NA, index=range(rows.size), dtype=object))
    cancelled = values.get("cancelled_at")
    derived = pd.Series("active", index=range(rows.size), dtype=object)
    if ends is not None:
        derived = derived.where(~(ends < pd.Timestamp(rows.options.now)).fillna(False), "expired")
    if cancelled is not None:
        derived = derived.where(cancelled.isna(), "cancelled")
    values["status"] = status.astype(object).where(status.notna(), derived)


def _interactions(rows: _Rows) -> None:
    values = rows.shaped.values
    channel = values["channel"]
    derived = pd.Series(
        np.select(
            [channel == "feedback", channel.isin(_SYSTEM_CHANNELS)],
            ["inbound", "system"],
            "outbound",
        ),
        dtype=object,
    )
    direction = values.get("direction")
    values["direction"] = (
        derived if direction is None else direction.where(direction.notna(), derived)
    )


def _tickets(rows: _Rows) -> None:
    _not_before(rows, "first_response_at", "opened_at", "before_opened")
    _not_before(rows, "resolved_at", "opened_at", "before_opened")


def _surveys(rows: _Rows) -> None:
    """One survey row per answer: a kind with a score, an NPS column, a satisfaction column.
    A row answering two kinds yields a second survey with the key suffix ``:csat``."""
    values = rows.shaped.values
    kind = values.pop("kind", None)
    score = values.pop("score", None)
    nps = values.pop("nps", None)
    csat = values.pop("csat", None)
    answers: list[tuple[pd.Series, pd.Series]] = []
    if score is not None:
        given_kind = kind if kind is not None else pd.Series(pd.NA, index=range(rows.size))
        rows.log.add(
            _where(rows.log, "score"),
            flagged(score.notna() & given_kind.isna(), "score_needs_kind"),
            rows.cells["score"],
        )
        limits_nps = (score < 0) | (score > 10)
        limits_csat = (score < 1) | (score > 5)
        out = ((given_kind == "nps") & limits_nps) | ((given_kind == "csat") & limits_csat)
        rows.log.add(
            _where(rows.log, "score"),
            flagged(out.fillna(False), "score_out_of_range"),
            rows.cells["score"],
            row_params={"kind": given_kind},
        )
        answers.append((given_kind, score))
    if nps is not None:
        answers.append((pd.Series("nps", index=range(rows.size)), nps))
    if csat is not None:
        answers.append((pd.Series("csat", index=range(rows.size)), csat))
    first_kind = pd.Series(pd.NA, index=range(rows.size), dtype=object)
    first_score = pd.Series(pd.NA, index=range(rows.size), dtype="Int64")
    taken = pd.Series(False, index=range(rows.size))
    for answer_kind, answer_score in answers:
        use = answer_score.notna() & ~taken
        first_kind[use] = answer_kind[use]
        first_score[use] = answer_score[use]
        taken |= use
    values["kind"], values["score"] = first_kind, first_score
    if nps is not None and csat is not None:
        both = (nps.notna() & csat.notna()).to_numpy()
        second = pd.DataFrame(
            {
                "kind": "csat",
                "score": csat,
                "_suffix": ":csat",
                "answered_at": values["answered_at"],
                "comment": values.get("comment"),
                "_position": np.arange(rows.size),
            }
        )
        rows.shaped.children.append(("surveys", second[both]))
    rows.log.add(_where(rows.log, "score"), flagged(~taken, "no_score"))


def _churn_events(rows: _Rows) -> None:
    values = rows.shaped.values
    reason_text = rows.cells.get("reason")
    if reason_text is not None:
        # a reason written in words keeps its words: the code is a classification of them
        note = values.get("note", pd.Series(pd.NA, index=range(rows.size), dtype=object))
        values["note"] = note.where(note.notna(), reason_text)
