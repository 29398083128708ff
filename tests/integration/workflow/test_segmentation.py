"""Segmenting the demo company and writing tiers and tags back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine, delete, insert, select, update

from churnradar.config import Settings, load_settings
from churnradar.domain.segments import ActionGroup, AutoTag, ValueTier
from churnradar.errors import Conflict, InvalidInput
from churnradar.store.segments import write_segments
from churnradar.store.tables import Customer, CustomerTag
from churnradar.workflow.demo_build import build_demo_company
from churnradar.workflow.segmentation import segment_customers

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)
CUSTOMERS = 300


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """The demo company (300 customers, two years to 2026-03-31) in ``engine``."""
    settings = load_settings(data_dir=tmp_path)
    build_demo_company(
        engine, settings, customers=CUSTOMERS, seed=4, end=date(2026, 3, 31), years=2
    )
    return settings


def _customers(engine: Engine) -> dict[int, tuple[str | None, datetime]]:
    with engine.connect() as connection:
        rows = connection.execute(select(Customer.id, Customer.tier, Customer.updated_at))
        return {row.id: (row.tier, row.updated_at) for row in rows}


def _tags(engine: Engine) -> set[tuple[int, str, str, datetime]]:
    with engine.connect() as connection:
        rows = connection.execute(select(CustomerTag))
        return {(row.customer_id, row.tag, row.source, row.created_at) for row in rows}


class TestSegmentCustomers:
    def test_writes_a_tier_for_every_customer_and_the_auto_tags(
        self, engine: Engine, settings: Settings
    ) -> None:
        report = segment_customers(engine, settings, as_of=AS_OF)

        assert report.customers == CUSTOMERS
        assert sum(report.tiers.values()) == CUSTOMERS
        assert sum(report.action_groups.values()) == CUSTOMERS
        assert sum(report.segments.values()) + report.unsegmented == CUSTOMERS
        assert list(report.action_groups) == list(ActionGroup)
        # every group of the seeds is populated by the demo company
        assert all(report.action_groups.values())
        # the demo's own tiers (A-D) are replaced by value tiers; A is about 20% of the
        # customers with value, never more than the customers with value
        stored = _customers(engine)
        tiers = [tier for tier, _ in stored.values()]
        assert {tier: tiers.count(tier) for tier in ValueTier} == report.tiers
        assert 0 < report.tiers["A"] < report.tiers["B"] < report.tiers["C"]
        assert report.written.tiers_changed > 0
        tags = _tags(engine)
        assert {source for _, _, source, _ in tags} == {"auto"}
        assert {created for *_, created in tags} == {AS_OF}
        counted = {code: sum(1 for _, tag, _, _ in tags if tag == code) for code in AutoTag}
        assert counted == report.tags
        assert report.written.tags_added == len(tags) == sum(report.tags.values())
        assert report.tags["big_spender"] == report.tiers["A"]

    def test_a_second_run_with_the_same_as_of_changes_nothing(
        self, engine: Engine, settings: Settings
    ) -> None:
        first = segment_customers(engine, settings, as_of=AS_OF)
        customers, tags = _customers(engine), _tags(engine)

        second = segment_customers(engine, settings, as_of=AS_OF)

        assert (second.written.tiers_changed, second.written.tags_added) == (0, 0)
        assert second.written.tags_removed == 0
        assert (second.tiers, second.action_groups, second.tags, second.segments) == (
            first.tiers,
            first.action_groups,
            first.tags,
            first.segments,
        )
        assert _customers(engine) == customers  # updated_at included
        assert _tags(engine) == tags

    def test_manual_tags_survive_and_stale_auto_tags_go(
        self, engine: Engine, settings: Settings
    ) -> None:
        segment_customers(engine, settings, as_of=AS_OF)
        customers = _customers(engine)
        a_customer = min(i for i, (tier, _) in customers.items() if tier == "A")
        c_customer = min(i for i, (tier, _) in customers.items() if tier == "C")
        marked = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as connection:
            # the team's own tag; a manual tag with the code of an auto tag the customer
            # has (it becomes manual); an auto tag no rule gives (it must go)
            connection.execute(
                delete(CustomerTag).where(
                    CustomerTag.customer_id == a_customer, CustomerTag.tag == "big_spender"
                )
            )
            connection.execute(
                insert(CustomerTag),
                [
                    {"customer_id": c_customer, "tag": "vip", "source": "manual"},
                    {"customer_id": a_customer, "tag": "vip", "source": "manual"},
                    {"customer_id": c_customer, "tag": "big_spender", "source": "auto"},
                    {"customer_id": c_customer, "tag": "retired_rule", "source": "auto"},
                ],
            )
            connection.execute(
                insert(CustomerTag).values(
                    customer_id=a_customer, tag="big_spender", source="manual", created_at=marked
                )
            )

        report = segment_customers(engine, settings, as_of=AS_OF)

        tags = {(i, tag): (source, created) for i, tag, source, created in _tags(engine)}
        assert tags[(c_customer, "vip")][0] == "manual"
        assert tags[(a_customer, "vip")][0] == "manual"
        assert tags[(a_customer, "big_spender")] == ("manual", marked)
        assert (c_customer, "big_spender") not in tags
        assert (c_customer, "retired_rule") not in tags
        assert (report.written.tags_added, report.written.tags_removed) == (0, 2)

    def test_a_later_run_replaces_the_auto_tags_and_keeps_their_first_date(
        self, engine: Engine, settings: Settings
    ) -> None:
        segment_customers(engine, settings, as_of=AS_OF)
        before = {(i, tag): created for i, tag, _, created in _tags(engine)}

        report = segment_customers(engine, settings, as_of=LATER)

        after = {(i, tag): created for i, tag, _, created in _tags(engine)}
        kept, added = after.keys() & before.keys(), after.keys() - before.keys()
        assert kept
        assert added
        assert before.keys() - after.keys()  # two months on, some tags no longer apply
        assert {after[key] for key in kept} == {AS_OF}
        assert {after[key] for key in added} == {LATER}
        assert report.written.tags_added == len(added)
        assert report.written.tags_removed == len(before.keys() - after.keys())


class TestWriteSegments:
    """The writer on its own, with customers made for it."""

    @pytest.fixture
    def ids(self, engine: Engine) -> list[int]:
        with engine.begin() as connection:
            connection.execute(
                insert(Customer),
                [
                    {"external_id": f"C{i}", "name": f"客户{i}", "business_model": "noncontract"}
                    for i in range(1, 4)
                ],
            )
            return list(connection.scalars(select(Customer.id).order_by(Customer.id)))

    def _rows(self, **columns: list[Any]) -> pa.Table:
        return pa.table(
            {
                "customer_id": pa.array(columns["customer_id"], pa.int64()),
                "tier": pa.array(columns["tier"], pa.string()),
                "tags": pa.array(columns["tags"], pa.list_(pa.string())),
            }
        )

    def test_sets_tiers_and_tags_and_skips_unknown_customers(
        self, engine: Engine, ids: list[int]
    ) -> None:
        first, second, third = ids
        with engine.begin() as connection:
            connection.execute(update(Customer).where(Customer.id == third).values(tier="Z"))
        rows = self._rows(
            customer_id=[first, second, 999_999],
            tier=["A", None, "B"],
            tags=[["big_spender", "silent"], [], ["silent"]],
        )

        written = write_segments(engine, rows, as_of=AS_OF)

        stored = _customers(engine)
        assert [stored[i][0] for i in ids] == ["A", None, "Z"]  # the third is not named
        assert {(i, tag) for i, tag, *_ in _tags(engine)} == {
            (first, "big_spender"),
            (first, "silent"),
        }
        assert (written.tiers_changed, written.tags_added, written.tags_removed) == (1, 2, 0)

    def test_missing_columns_and_repeated_customers_are_refused(
        self, engine: Engine, ids: list[int]
    ) -> None:
        with pytest.raises(InvalidInput):
            write_segments(engine, pa.table({"customer_id": [ids[0]]}), as_of=AS_OF)
        repeated = self._rows(customer_id=[ids[0], ids[0]], tier=["A", "B"], tags=[[], []])
        with pytest.raises(Conflict):
            write_segments(engine, repeated, as_of=AS_OF)
        assert _tags(engine) == set()
