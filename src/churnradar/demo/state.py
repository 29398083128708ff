"""The simulator's memory: per-customer dynamic state and the growing event tables."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from churnradar.demo.buffers import ColumnBuffer

NEVER = -(10**6)  # a day long before any history, for "last time X happened"
OPEN = 10**6  # a day after any history, for "until" of things that have not ended

# Codes stored in the buffers; frames.py turns them into the enum values of the database.
SUB_ACTIVE, SUB_RENEWED, SUB_EXPIRED, SUB_CANCELLED = 0, 1, 2, 3
INBOUND, OUTBOUND, SYSTEM = 0, 1, 2
TONE_NORMAL, TONE_LEAVING, TONE_COMPETITOR, TONE_FEEDBACK, TONE_NONE = 0, 1, 2, 3, 4
NPS, CSAT = 0, 1


def _events() -> dict[str, ColumnBuffer]:
    i32, i64, f64, i8 = np.int32, np.int64, np.float64, np.int8
    return {
        "orders": ColumnBuffer(
            {"customer": i32, "day": i32, "sec": i32, "amount": f64, "line": i8,
             "quantity": i32, "status": i8}
        ),
        "subscriptions": ColumnBuffer(
            {"customer": i32, "start": i32, "end": i32, "mrr": f64, "plan": i8, "status": i8,
             "renewed_from": i64, "cancel_day": i32, "cancel_reason": i8}
        ),
        "interactions": ColumnBuffer(
            {"customer": i32, "day": i32, "sec": i32, "channel": i8, "direction": i8,
             "user": i32, "tone": i8, "text": np.int16, "result": i8}
        ),
        "tickets": ColumnBuffer(
            {"customer": i32, "day": i32, "sec": i32, "category": i8, "severity": i8,
             "complaint": np.bool_, "response_h": f64, "resolve_h": f64,
             "satisfaction": i8, "subject": i8}
        ),
        "surveys": ColumnBuffer(
            {"customer": i32, "day": i32, "sec": i32, "kind": i8, "score": i8,
             "comment": i8}
        ),
        "churn_events": ColumnBuffer(
            {"customer": i32, "day": i32, "sec": i32, "type": i8, "reason": i8}
        ),
        "contacts": ColumnBuffer(
            {"customer": i32, "surname": np.int16, "given": np.int16, "title": i8,
             "is_key": np.bool_, "from_day": i32, "to_day": i32}
        ),
    }  # fmt: skip


@dataclass
class CustomerState:
    """Dynamic per-customer arrays (length = all customers, including future arrivals)."""

    size: int
    churned: npt.NDArray[np.bool_] = field(init=False)
    churn_day: npt.NDArray[np.int32] = field(init=False)
    churn_type: npt.NDArray[np.int8] = field(init=False)  # -1, or index of ChurnType
    churn_reason: npt.NDArray[np.int8] = field(init=False)
    reported: npt.NDArray[np.bool_] = field(init=False)
    won_back_day: npt.NDArray[np.int32] = field(init=False)
    leaving: npt.NDArray[np.bool_] = field(init=False)
    leave_start: npt.NDArray[np.int32] = field(init=False)
    leave_end: npt.NDArray[np.int32] = field(init=False)
    leave_cause: npt.NDArray[np.int8] = field(init=False)  # index of ReasonCode
    leave_cancels: npt.NDArray[np.bool_] = field(init=False)  # contract ends early
    last_order: npt.NDArray[np.int32] = field(init=False)
    last_follow_up: npt.NDArray[np.int32] = field(init=False)
    complaint_day: npt.NDArray[np.int32] = field(init=False)
    complaint_answer_day: npt.NDArray[np.int32] = field(init=False)
    complaint_slow: npt.NDArray[np.bool_] = field(init=False)  # answered late, or never
    complaint_load: npt.NDArray[np.float64] = field(init=False)  # decaying complaint count
    key_change_day: npt.NDArray[np.int32] = field(init=False)
    key_contact_row: npt.NDArray[np.int64] = field(init=False)
    competitor_until: npt.NDArray[np.int32] = field(init=False)
    treated_until: npt.NDArray[np.int32] = field(init=False)
    interventions: npt.NDArray[np.int32] = field(init=False)
    saved: npt.NDArray[np.bool_] = field(init=False)
    satisfaction: npt.NDArray[np.float64] = field(init=False)
    subscription_row: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        n = self.size
        self.churned = np.zeros(n, bool)
        self.churn_day = np.full(n, -1, np.int32)
        self.churn_type = np.full(n, -1, np.int8)
        self.churn_reason = np.full(n, -1, np.int8)
        self.reported = np.zeros(n, bool)
        self.won_back_day = np.full(n, -1, np.int32)
        self.leaving = np.zeros(n, bool)
        self.leave_start = np.full(n, -1, np.int32)
        self.leave_end = np.full(n, -1, np.int32)
        self.leave_cause = np.full(n, -1, np.int8)
        self.leave_cancels = np.zeros(n, bool)
        self.last_order = np.full(n, NEVER, np.int32)
        self.last_follow_up = np.full(n, NEVER, np.int32)
        self.complaint_day = np.full(n, NEVER, np.int32)
        self.complaint_answer_day = np.full(n, NEVER, np.int32)
        self.complaint_slow = np.zeros(n, bool)
        self.complaint_load = np.zeros(n)
        self.key_change_day = np.full(n, NEVER, np.int32)
        self.key_contact_row = np.full(n, -1, np.int64)
        self.competitor_until = np.full(n, NEVER, np.int32)
        self.treated_until = np.full(n, NEVER, np.int32)
        self.interventions = np.zeros(n, np.int32)
        self.saved = np.zeros(n, bool)
        self.satisfaction = np.zeros(n)
        self.subscription_row = np.full(n, -1, np.int64)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "size"}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> CustomerState:
        state = cls(len(arrays["churned"]))
        for name, array in arrays.items():
            setattr(state, name, array)
        return state


def new_event_tables() -> dict[str, ColumnBuffer]:
    return _events()
