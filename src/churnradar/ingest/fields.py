"""What a column of an import file can mean: a field, its type, and the headers that name it.

A :class:`Field` is one thing the user's file may hold (an order's amount, a customer's owner).
Most fields land in a column of the kind's table; the others are references (a customer named
by its number or its name, an owner named by user name) that the store resolves to ids when it
merges, or inputs that shape other columns (a contract value that becomes monthly revenue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    MONEY = "money"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    REASON = "reason"  # a churn reason: a code, a label, or free text classified by keywords


class Target(StrEnum):
    """Where a reference points."""

    CUSTOMER_KEY = "customer_key"  # customers.external_id
    CUSTOMER_NAME = "customer_name"  # customers.name
    USER = "user"  # users.username, display name, external id or email
    SUBSCRIPTION = "subscription"  # subscriptions.external_id


@dataclass(frozen=True)
class Field:
    """One field an import file may hold.

    ``headers`` are the column names that mean this field, in Chinese and English; they are
    compared after normalisation (see :func:`churnradar.ingest.headers.normalise_header`).
    ``column`` is the table column it fills (None for fields that are only inputs).
    """

    name: str
    type: FieldType
    headers: tuple[str, ...]
    column: str | None = None
    required: bool = False
    choices: Mapping[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    labels: Mapping[str, int] = field(default_factory=dict)  # words that mean a score
    reference: Target | None = None
    default: Any = None
    future: bool = False  # a time that may lie ahead (a contract's end), not an event's
    fills: tuple[str, str] | None = None  # (table, column) an input-only field ends up in

    @property
    def label_key(self) -> str:
        return f"ingest.field.{self.name}"


@dataclass(frozen=True)
class Kind:
    """One kind of file: the table it fills and the fields it understands.

    A row is identified by its external id; a row without one gets a key made from all its
    values, so that importing the same file twice finds the same rows. ``natural_key`` names
    the fields that say which row a repeat is, in messages (a customer's name, a time).
    """

    name: str
    table: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # groups of fields of which at least one must be present, e.g. customer number or name
    one_of: tuple[tuple[str, ...], ...] = ()

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(candidate.name for candidate in self.fields)
