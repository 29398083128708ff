"""The import guide lists exactly the columns the code recognises."""

from __future__ import annotations

from pathlib import Path

from churnradar.ingest.kinds import header_tables

GUIDE = Path(__file__).parents[3] / "docs" / "import.md"


def test_the_import_guide_lists_the_recognised_columns() -> None:
    text = GUIDE.read_text(encoding="utf-8")

    assert header_tables().strip() in text, (
        "docs/import.md is out of date: regenerate its 'Recognised columns' section with "
        "churnradar.ingest.kinds.header_tables()"
    )
