"""From raw cells to rows the store can merge: parse, check, resolve, key, deduplicate.

:class:`RowValidator` turns one :class:`~churnradar.ingest.readers.RawChunk` into frames per
table (typed values, the references as keys the store resolves, the source row number in
``_row``) and a log of problems. A row with any problem is rejected as a whole; the others are
independent of it. Everything runs a column at a time, so a chunk of 100,000 rows costs a few
dozen vectorised operations, whatever its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from churnradar.ingest import values as parse
from churnradar.ingest.choices import classify_reasons
from churnradar.ingest.duplicates import SeenRows, hash_values, row_hashes
from churnradar.ingest.fields import Field, FieldType, Kind, Target
from churnradar.ingest.headers import ColumnChoice, HeaderMapping
from churnradar.ingest.problems import ProblemLog, Where, flagged
from churnradar.ingest.readers import RawChunk
from churnradar.ingest.references import (
    CustomerDirectory,
    KeyDirectory,
    UserDirectory,
    first_spelling,
)
from churnradar.ingest.shaping import Shaped, shape
from churnradar.store.staging import INSERT_DEFAULTS
from churnradar.store.tables import metadata


@dataclass(frozen=True)
class ImportOptions:
    """How to read values and what to do with rows that name unknown things."""

    zone: ZoneInfo
    currency: str
    now: datetime  # the import's clock: a date after it (plus a day's slack) is refused
    create_customers: bool = False
    create_owners: bool = False


@dataclass
class Directories:
    customers: CustomerDirectory
    users: UserDirectory
    subscriptions: KeyDirectory


@dataclass
class ChunkResult:
    frames: list[tuple[str, pd.DataFrame, bool]]  # (table, rows, upsert?) parents first
    problems: pd.DataFrame  # see ProblemLog.frame
    rejected: np.ndarray  # boolean mask over the chunk's rows
    created: dict[str, int] = field(default_factory=dict)  # customers/users created


class RowValidator:
    """Validates the chunks of one file, remembering keys across chunks for duplicates."""

    def __init__(
        self, kind: Kind, mapping: HeaderMapping, options: ImportOptions, directories: Directories
    ) -> None:
        self.kind = kind
        self.mapping = mapping
        self.options = options
        self.directories = directories
        self._seen = SeenRows()
        self._table = metadata.tables[kind.table]

    def validate(self, chunk: RawChunk) -> ChunkResult:
        size = len(chunk.frame)
        log = ProblemLog(chunk.rows, {c.field.name: c.header for c in self.mapping.columns})
        cells: dict[str, pd.Series] = {}  # the cells as written, for messages
        typed: dict[str, pd.Series] = {}
        for choice in self.mapping.columns:
            raw = chunk.frame[choice.position].reset_index(drop=True)
            written = parse.clean_text(raw)
            cells[choice.field.name] = written
            # text cells (all of a CSV's) are parsed from their cleaned form: cleaning is
            # then not done twice; typed Excel cells are parsed as they are
            textual = pd.api.types.infer_dtype(raw, skipna=True) in {"string", "empty"}
            source = written if textual else raw
            typed[choice.field.name] = self._parse(choice, source, written, log)
        self._check_required(typed, cells, size, log)
        shaped = shape(self.kind, typed, cells, self.options, log)
        self._resolve(shaped, cells, log)
        self._key(shaped)
        rejected = log.rejected(size)
        self._check_repeats(shaped, chunk, cells, rejected, log)
        rejected = log.rejected(size)
        frames, created = self._frames(shaped, chunk.rows, rejected)
        return ChunkResult(frames, log.frame(), rejected, created)

    # parsing --------------------------------------------------------------------------------

    def _parse(
        self, choice: ColumnChoice, raw: pd.Series, written: pd.Series, log: ProblemLog
    ) -> pd.Series:
        spec, multiplier = choice.field, choice.multiplier
        where = Where(choice.header, spec.name)
        kind = spec.type
        if kind is FieldType.TEXT:
            result = parse.ParsedColumn(written, pd.Series(None, index=written.index, dtype=object))
        elif kind is FieldType.DATETIME:
            latest = None if spec.future else self.options.now + timedelta(days=1)
            result = parse.parse_datetimes(raw, self.options.zone, latest=latest)
        elif kind is FieldType.MONEY:
            result = parse.parse_money(raw)
            if multiplier != 1.0:
                result = parse.ParsedColumn((result.values * multiplier).round(2), result.errors)
        elif kind is FieldType.INTEGER:
            result = parse.parse_integers(raw, labels=spec.labels or None)
        elif kind is FieldType.BOOLEAN:
            result = parse.parse_booleans(raw)
        elif kind is FieldType.CHOICE:
            result = parse.parse_choices(raw, spec.choices)
        else:  # REASON: a code or label, else free text classified by keywords
            exact = parse.parse_choices(raw, spec.choices)
            guessed = classify_reasons(written)
            values = exact.values.where(exact.values.notna(), guessed)
            result = parse.ParsedColumn(values, pd.Series(None, index=raw.index, dtype=object))
        allowed = _allowed(spec.choices)
        log.add(where, result.errors, written, {"allowed": allowed})
        values = result.values
        if spec.minimum is not None or spec.maximum is not None:
            out = parse.check_range(values, minimum=spec.minimum, maximum=spec.maximum)
            if kind is FieldType.MONEY:  # money below zero is a refund written as an amount
                out = out.replace("below_minimum", "negative_amount")
            log.add(
                where,
                out,
                written,
                {"minimum": spec.minimum, "maximum": spec.maximum},
            )
        limit = self._length_limit(spec)
        if limit is not None and kind is FieldType.TEXT:
            too_long = parse.check_length(values, limit)
            log.add(
                where,
                too_long,
                written,
                {"limit": limit},
                {"length": values.astype("string").str.len()},
            )
        return values

    def _length_limit(self, spec: Field) -> int | None:
        if spec.reference is not None:
            return 64
        if spec.fills is not None:
            table, column = spec.fills
            return getattr(metadata.tables[table].c[column].type, "length", None)
        if spec.column is None or spec.column not in self._table.c:
            return 200
        return getattr(self._table.c[spec.column].type, "length", None)

    def _check_required(
        self, typed: dict[str, pd.Series], cells: dict[str, pd.Series], size: int, log: ProblemLog
    ) -> None:
        for spec in self.kind.fields:
            choice = self.mapping.get(spec.name)
            if not spec.required or choice is None:
                continue
            empty = cells[spec.name].isna()
            log.add(Where(choice.header, spec.name), flagged(empty, "required"))
        for group in self.kind.one_of:
            present = [name for name in group if name in typed]
            if not present:
                continue
            empty = np.logical_and.reduce([cells[name].isna().to_numpy() for name in present])
            choice = self.mapping.get(present[0])
            assert choice is not None
            labels = " / ".join(self.mapping.get(name).header for name in present)  # type: ignore[union-attr]
            log.add(
                Where(choice.header, present[0]),
                flagged(empty, "required_one_of"),
                params={"columns": labels},
            )

    # references ------------------------------------------------------------------------------

    def _resolve(self, shaped: Shaped, cells: dict[str, pd.Series], log: ProblemLog) -> None:
        for spec in self.kind.fields:
            if spec.reference is Target.USER and spec.name in shaped.values:
                self._resolve_user(spec, shaped, log)
        if "customer_key" in shaped.values or "customer_name" in shaped.values:
            self._resolve_customer(shaped, cells, log)
        if "renewed_from" in shaped.values:
            choice = self.mapping.get("renewed_from")
            assert choice is not None
            if shaped.keys is not None:  # a renewal may name a term of this file
                sound = ~log.rejected(len(shaped.keys))
                self.directories.subscriptions.add(shaped.keys[sound])
            resolved = self.directories.subscriptions.resolve(
                shaped.values["renewed_from"], "unknown_contract"
            )
            log.add(Where(choice.header, "renewed_from"), resolved.errors, cells["renewed_from"])
            shaped.refs["renewed_from__subscription"] = shaped.values.pop("renewed_from")

    def _resolve_user(self, spec: Field, shaped: Shaped, log: ProblemLog) -> None:
        """Users by name; with ``create_owners`` an unknown name becomes a new sales user
        (created in :meth:`_frames` only if a kept row names it)."""
        choice = self.mapping.get(spec.name)
        assert choice is not None
        assert spec.column is not None
        names = shaped.values.pop(spec.name)
        resolved = self.directories.users.resolve(names)
        if self.options.create_owners:
            unknown = resolved.errors == "unknown_user"
            names = names.where(~unknown, first_spelling(names))
            resolved.keys[unknown] = names[unknown]
            resolved.errors[unknown] = None
            fresh = names[unknown].drop_duplicates()
            users = pd.DataFrame({"username": fresh.to_numpy(), "display_name": fresh.to_numpy()})
            shaped.add_parent("users", users.assign(role="sales", is_active=True))
        log.add(Where(choice.header, spec.name), resolved.errors, names)
        shaped.refs[f"{spec.column}__user"] = resolved.keys

    def _resolve_customer(
        self, shaped: Shaped, cells: dict[str, pd.Series], log: ProblemLog
    ) -> None:
        """Customers by number, else by name; with ``create_customers`` an unknown one gets
        the row's number (or a key from its name) and is created in :meth:`_frames` if a
        kept row names it."""
        keys = shaped.values.pop("customer_key", None)
        names = shaped.values.pop("customer_name", None)
        resolved = self.directories.customers.resolve(keys, names)
        if self.options.create_customers:
            unknown = resolved.errors == "unknown_customer"
            if names is not None:
                names = names.where(~unknown, first_spelling(names))
            named = _name_keys(names) if names is not None else None
            new_keys = keys.where(keys.notna(), named) if keys is not None else named
            assert new_keys is not None
            new_names = names.where(names.notna(), new_keys) if names is not None else new_keys
            resolved.keys[unknown] = new_keys[unknown]
            resolved.errors[unknown] = None
            model = "contract" if self.kind.table == "subscriptions" else "noncontract"
            fresh = pd.DataFrame(
                {"external_id": new_keys[unknown].to_numpy(), "name": new_names[unknown].to_numpy()}
            ).drop_duplicates("external_id")
            shaped.add_parent("customers", fresh.assign(business_model=model))
        choice = self.mapping.get("customer_key") or self.mapping.get("customer_name")
        assert choice is not None
        log.add(Where(choice.header, choice.field.name), resolved.errors, cells[choice.field.name])
        shaped.refs["customer_id__customer"] = resolved.keys

    # keys and repeats --------------------------------------------------------------------------

    def _key(self, shaped: Shaped) -> None:
        """Rows without an external id get one derived from their natural key, so that the
        same row imported again is recognised: a customer by its name (the one already
        stored under that name, else the name itself), other rows by a digest of all their
        values."""
        given = shaped.keys
        if given is not None and given.notna().all():
            return
        if self.kind.table == "customers":
            names = shaped.values["name"]
            existing = self.directories.customers.resolve(None, names).keys
            derived = existing.where(existing.notna(), _name_keys(names))
        else:
            # every value of the row: two rows without a number are the same row only when
            # nothing differs (two answers of one customer on one day are two answers)
            parts = dict(sorted({**shaped.values, **shaped.refs}.items()))
            frame = pd.DataFrame(
                {name: part.astype("string") for name, part in parts.items()}
            ).fillna("")
            digest = hash_values(frame)
            derived = pd.Series([f"auto:{value:016x}" for value in digest], dtype=object)
        shaped.keys = derived if given is None else given.where(given.notna(), derived)

    def _check_repeats(
        self,
        shaped: Shaped,
        chunk: RawChunk,
        cells: dict[str, pd.Series],
        rejected: np.ndarray,
        log: ProblemLog,
    ) -> None:
        """Flag the valid rows whose key an earlier row has: ``duplicate_row`` when the
        mapped cells are also the same as written, ``duplicate_key`` otherwise."""
        assert shaped.keys is not None
        valid = ~rejected
        if not valid.any():
            return
        rows = chunk.rows
        key_hashes = row_hashes([shaped.keys[valid]])
        written = chunk.frame.iloc[np.flatnonzero(valid)]
        content = row_hashes([written[c.position] for c in self.mapping.columns])
        repeated, same, earlier = self._seen.check(key_hashes, content, rows[valid])
        full = np.full(len(rejected), None, dtype=object)
        full[np.flatnonzero(valid)[repeated]] = "duplicate_key"
        full[np.flatnonzero(valid)[same]] = "duplicate_row"
        first = np.zeros(len(rejected), dtype=np.int64)
        first[valid] = earlier
        # a repeat is reported in the column that identifies the row: its number, else the
        # first column of its natural key (a customer's name, a follow-up's customer)
        identifying = ["external_id", *self.kind.natural_key, "customer_key", "customer_name"]
        choice = next(c for name in identifying if (c := self.mapping.get(name)) is not None)
        log.add(
            Where(choice.header, choice.field.name),
            pd.Series(full),
            cells[choice.field.name],
            row_params={"first": pd.Series(first)},
        )

    def _frames(
        self, shaped: Shaped, rows: np.ndarray, rejected: np.ndarray
    ) -> tuple[list[tuple[str, pd.DataFrame, bool]], dict[str, int]]:
        """(table, rows, update existing rows?) in the order they must be merged, and the
        number of customers and users created for the kept rows."""
        keep = ~rejected
        assert shaped.keys is not None
        keys = shaped.keys.to_numpy(dtype=object)
        main = pd.DataFrame(dict(shaped.values))
        for name, series in shaped.refs.items():
            main[name] = series
        main["external_id"] = keys
        main["_row"] = rows
        kept = main[keep]
        frames: list[tuple[str, pd.DataFrame, bool]] = []
        created: dict[str, int] = {}
        for table, parent in shaped.parents.items():
            # only what a kept row names is created; a rejected row creates nothing
            target = "customer" if table == "customers" else "user"
            named = [kept[c] for c in kept.columns if c.endswith(f"__{target}")]
            needed = parent[parent.iloc[:, 0].isin(pd.concat(named))] if named else parent[:0]
            if needed.empty:
                continue
            if table == "customers":
                self.directories.customers.add(needed["external_id"], needed["name"])
            else:
                self.directories.users.add(needed)
            frames.append((table, needed.reset_index(drop=True), False))
            created[table] = len(needed)
        main_rows = kept.reset_index(drop=True)
        main_rows.attrs[INSERT_DEFAULTS] = dict(shaped.defaults)
        frames.append((self.kind.table, main_rows, True))
        customer = shaped.refs.get("customer_id__customer")
        owner = shaped.refs.get("owner_id__user")
        for table, implied in shaped.children:
            position = implied["_position"].to_numpy()
            child = implied.drop(columns=["_position", "_suffix", "_owner"], errors="ignore")
            child["external_id"] = _fitting_keys(
                pd.Series(keys[position] + implied["_suffix"].to_numpy(dtype=object))
            ).to_numpy()
            child["_row"] = rows[position]
            # the customer a child belongs to: its row's customer, or its row itself
            child["customer_id__customer"] = (
                customer.to_numpy(dtype=object)[position]
                if customer is not None
                else keys[position]
            )
            if "_owner" in implied and owner is not None:
                child["user_id__user"] = owner.to_numpy(dtype=object)[position]
            frames.append((table, child[keep[position]].reset_index(drop=True), True))
        return frames, created


def _allowed(choices: Mapping[str, str]) -> str:
    """The values a coded column accepts, each with a Chinese word for it: 企业 (company)."""
    words: dict[str, str] = {}
    for word, code in choices.items():
        if not word.isascii():
            words.setdefault(code, word)
    codes = dict.fromkeys(choices.values())
    return ", ".join(f"{words[code]} ({code})" if code in words else code for code in codes)


def _fitting_keys(keys: pd.Series) -> pd.Series:
    """Keys as they are when they fit the 64 characters of an external id, else a digest."""
    fits = keys.str.len() <= 64
    digests = keys[~fits].map(lambda key: "auto:" + hashlib.sha1(key.encode()).hexdigest()[:32])
    return keys.where(fits, digests)


def _name_keys(names: pd.Series) -> pd.Series:
    """An external id for a customer known only by name: the name itself when it fits,
    else a digest of it (stable, so the next import finds the same customer)."""
    fits = names.str.len() <= 64
    digests = names[~fits].map(lambda name: "name:" + hashlib.sha1(name.encode()).hexdigest()[:24])
    return names.where(fits, digests)
