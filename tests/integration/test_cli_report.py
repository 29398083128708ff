"""``churnradar report --month``: a new user's demo company, reported as text and as JSON."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from support.cli import churnradar, small_company

MONTH = "2026-02"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_company(tmp_path_factory.mktemp("company"))


@pytest.fixture(scope="module")
def report(company: Path) -> dict[str, Any]:
    done = churnradar(
        company,
        "report",
        "--month",
        MONTH,
        "--as-of",
        "2026-04-01",
        "--format",
        "json",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


class TestJson:
    def test_the_month_quarter_and_year(self, report: dict[str, Any]) -> None:
        periods = {row["period"]: row for row in report["sections"]["churn"]}
        assert list(periods) == ["2026-02", "2026-Q1", "2026"]
        month = periods["2026-02"]
        assert month["complete"] is True
        assert month["customers_at_start"] > 100
        assert month["churned_customers"] > 0
        assert month["customers_at_end"] == (
            month["customers_at_start"]
            + month["new_customers"]
            + month["won_back_customers"]
            - month["churned_customers"]
        )
        assert month["churn_rate"] == pytest.approx(
            month["churned_customers"] / month["customers_at_start"]
        )
        assert month["churned_customers"] == sum(
            month[f"churned_{kind}"] for kind in ("active", "passive", "hidden")
        )
        # the quarter and the year began earlier, so they started with other customers
        assert periods["2026-Q1"]["churned_customers"] >= month["churned_customers"]

    def test_the_trend_ends_with_the_month_and_chains(self, report: dict[str, Any]) -> None:
        trend = report["sections"]["trend"]
        assert [row["period"] for row in trend][-1] == MONTH
        assert len(trend) == 12
        for before, after in pairwise(trend):
            assert after["customers_at_start"] == before["customers_at_end"]
            assert after["churn_rate_change"] == pytest.approx(
                after["churn_rate"] - before["churn_rate"]
            )

    def test_breakdowns_add_up_to_the_month(self, report: dict[str, Any]) -> None:
        [month] = [row for row in report["sections"]["churn"] if row["period"] == MONTH]
        sections = report["sections"]
        for dimension in ("segment", "region", "owner_id", "product_line"):
            rows = sections[f"by_{dimension}"]
            assert len(rows) > 1, dimension
            for figure in ("customers_at_start", "churned_customers", "new_customers"):
                assert sum(row[figure] for row in rows) == month[figure], (dimension, figure)
        reasons = sections["reasons"]
        assert sum(row["churned_customers"] for row in reasons) == month["churned_customers"]
        # owners are shown by name, not id
        assert all(not row["owner_id"].isdigit() for row in sections["by_owner_id"])

    def test_every_section_and_the_definition_used(self, report: dict[str, Any]) -> None:
        assert {"losses", "repurchase", "revenue", "satisfaction", "service", "cohorts"} <= set(
            report["sections"]
        )
        definition = report["definition"]
        assert definition["contract_grace_days"] == 30
        assert definition["inactive_days_derived"] is True
        assert definition["inactive_days_by_segment"]
        assert report["sections"]["losses"][0]["revenue_lost"] > 0


class TestText:
    def test_speaks_chinese_by_default(self, company: Path) -> None:
        done = churnradar(
            company,
            "report",
            "--month",
            MONTH,
            "--by",
            "segment",
            "--as-of",
            "2026-04-01",
            timeout=300,
            COLUMNS="140",
        )
        assert done.returncode == 0, done.stderr
        assert "流失报告 2026-02" in done.stdout
        assert "客户流失率" in done.stdout
        assert "按客户分群拆分" in done.stdout

    def test_and_english_when_asked(self, company: Path) -> None:
        done = churnradar(
            company,
            "report",
            "--month",
            MONTH,
            "--by",
            "region",
            "--as-of",
            "2026-04-01",
            timeout=300,
            COLUMNS="140",
            CHURNRADAR_LOCALE="en",
        )
        assert done.returncode == 0, done.stderr
        assert "Churn report 2026-02" in done.stdout
        assert "By Region" in done.stdout


class TestBadInput:
    @pytest.mark.parametrize(
        ("arguments", "expected"),
        [
            (("--month", "2026-13"), "--month"),
            (("--month", "March"), "--month"),
            (("--month", MONTH, "--by", "colour"), "segment, region"),
            (("--month", MONTH, "--format", "pdf"), "--format"),
            (("--month", MONTH, "--as-of", "01/04/2026"), "--as-of"),
            (("--month", "2030-01"), "2030-01"),
        ],
    )
    def test_one_line_and_exit_code_2(
        self, company: Path, arguments: tuple[str, ...], expected: str
    ) -> None:
        done = churnradar(company, "report", *arguments, CHURNRADAR_LOCALE="en")
        assert done.returncode == 2
        assert expected in done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


class TestSegment:
    def test_writes_tiers_and_tags_and_a_second_run_changes_nothing(self, company: Path) -> None:
        first = churnradar(company, "segment", "--as-of", "2026-04-01", timeout=300)
        assert first.returncode == 0, first.stderr
        assert "A类客户" in first.stdout
        assert "流失预警客户" in first.stdout
        again = churnradar(
            company, "segment", "--as-of", "2026-04-01", timeout=300, CHURNRADAR_LOCALE="en"
        )
        assert again.returncode == 0, again.stderr
        assert "0 changed tier, 0 automatic tags added, 0 removed" in again.stdout
