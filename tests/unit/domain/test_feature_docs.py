"""docs/features.md lists exactly the catalogue."""

from __future__ import annotations

from pathlib import Path

from churnradar.domain.features import FEATURE_CODES, FEATURES, catalogue_table

GUIDE = Path(__file__).parents[3] / "docs" / "features.md"


def test_the_guide_lists_the_catalogue() -> None:
    assert catalogue_table() in GUIDE.read_text(encoding="utf-8"), (
        "docs/features.md is out of date: regenerate its table with "
        "churnradar.domain.features.catalogue_table()"
    )


def test_codes_are_unique_snake_case_and_labelled() -> None:
    assert len(set(FEATURE_CODES)) == len(FEATURE_CODES)
    for entry in FEATURES:
        assert entry.code.isidentifier()
        assert entry.code == entry.code.lower()
        assert all((entry.zh, entry.en, entry.meaning_zh, entry.meaning_en))
