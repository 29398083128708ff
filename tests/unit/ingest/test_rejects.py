"""RejectedRowsWriter: the rejected rows as read, with the reason, in a file that re-imports."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from churnradar.ingest.readers import Layout, open_source
from churnradar.ingest.rejects import RejectedRowsWriter

ROW, REASON = "原行号", "错误原因"


def any_score(cells: list[str]) -> int:
    return 0  # the rejected file's header is its first row


def layout_of(headers: list[str], parents: list[str] | None = None) -> Layout:
    return Layout(headers, parents, header_row=1, encoding=None, sheet="客户")


def frame_of(*rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), dtype=object)


def writer_for(path: Path, layout: Layout) -> RejectedRowsWriter:
    return RejectedRowsWriter(path, layout, reason_header=REASON, row_header=ROW)


def reopened(path: Path) -> tuple[list[str], list[list[Any]]]:
    with open_source(path, score=any_score) as source:
        cells = [row for chunk in source.chunks() for row in chunk.frame.to_numpy().tolist()]
        return source.layout.headers, cells


class TestRejectedRowsWriter:
    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_writes_no_file_without_rejected_rows(self, tmp_path: Path, suffix: str) -> None:
        path = tmp_path / f"rejected{suffix}"

        with writer_for(path, layout_of(["客户编号"])) as writer:
            writer.write(frame_of(), np.array([], dtype=np.int64), [])

        assert (writer.count, path.exists()) == (0, False)

    def test_writes_a_csv_excel_opens_with_the_chinese_intact(self, tmp_path: Path) -> None:
        path = tmp_path / "rejected.csv"

        with writer_for(path, layout_of(["客户编号", "客户名称", "城市"])) as writer:
            writer.write(frame_of(["C1", "张三", None], ["C2", None, "北京"]), np.array([4, 7]),
                         pd.Series(["城市为空", "客户名称为空"], index=[10, 3]))  # fmt: skip

        assert writer.count == 2
        assert path.read_bytes().decode("utf-8-sig").splitlines() == [
            "原行号,客户编号,客户名称,城市,错误原因",
            "4,C1,张三,,城市为空",
            "7,C2,,北京,客户名称为空",
        ]
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    def test_writes_cells_as_excel_showed_them_in_a_csv(self, tmp_path: Path) -> None:
        path = tmp_path / "rejected.csv"
        cells = [datetime(2025, 1, 2, 13, 30), date(2025, 2, 3), 3.0, 2.5, True, float("nan")]

        with writer_for(path, layout_of(list("ABCDEF"))) as writer:
            writer.write(frame_of(cells), np.array([2]), ["原因"])

        assert path.read_text(encoding="utf-8-sig").splitlines()[1] == (
            "2,2025-01-02 13:30:00,2025-02-03,3,2.5,TRUE,,原因"
        )

    def test_writes_a_workbook_that_keeps_types(self, tmp_path: Path) -> None:
        path = tmp_path / "rejected.xlsx"
        row = ["C1", datetime(2025, 1, 2, 13, 30), date(2025, 2, 3), 3, 2.5, False, None, "=1+1"]

        with writer_for(path, layout_of(list("ABCDEFGH"))) as writer:
            writer.write(frame_of(row, ["C2\x01", *[None] * 7]), np.array([5, 9]), ["甲", "乙"])

        headers, cells = reopened(path)
        assert headers == [ROW, *"ABCDEFGH", REASON]
        assert cells == [[5, *row, "甲"], [9, "C2", *[None] * 7, "乙"]]

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_writes_a_two_row_header_as_one(self, tmp_path: Path, suffix: str) -> None:
        layout = layout_of(["客户编号", "电话", "邮箱"], ["客户编号", "联系方式", "联系方式"])
        path = tmp_path / f"rejected{suffix}"

        with writer_for(path, layout) as writer:
            writer.write(frame_of(["C1", "138", None]), np.array([4]), ["邮箱为空"])

        headers, cells = reopened(path)
        assert headers == [ROW, "客户编号", "联系方式电话", "联系方式邮箱", REASON]
        assert cells[0][1:] == ["C1", "138", None, "邮箱为空"]

    def test_puts_the_cells_of_a_wider_row_after_the_reason(self, tmp_path: Path) -> None:
        path = tmp_path / "rejected.csv"

        with writer_for(path, layout_of(["客户编号", "城市"])) as writer:
            writer.write(frame_of(["C1"]), np.array([2]), ["城市为空"])
            writer.write(frame_of(["C2", "北京", "多余"]), np.array([3]), ["重复"])

        assert path.read_text(encoding="utf-8-sig").splitlines()[1:] == [
            "2,C1,,城市为空",
            "3,C2,北京,重复,多余",
        ]

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_re_imports_the_rows_as_they_were_read(self, tmp_path: Path, suffix: str) -> None:
        source_path = tmp_path / "客户.xlsx"
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["2025年客户管理表"])
        sheet.append(["客户编号", "客户名称", "注册日期", "金额"])
        sheet.append(["C1", "张三", date(2025, 1, 2), 99.5])
        sheet.append(["C2", None, datetime(2025, 3, 4, 8, 0), 12])
        book.save(source_path)
        path = tmp_path / f"rejected{suffix}"

        with (
            open_source(source_path, score=lambda cells: "客户编号" in cells) as source,
            writer_for(path, source.layout) as writer,
        ):
            for chunk in source.chunks():
                writer.write(chunk.frame, chunk.rows, ["格式错误"] * len(chunk.rows))

        headers, cells = reopened(path)
        assert headers == [ROW, "客户编号", "客户名称", "注册日期", "金额", REASON]
        if suffix == ".xlsx":
            assert cells == [
                [3, "C1", "张三", date(2025, 1, 2), 99.5, "格式错误"],
                [4, "C2", None, datetime(2025, 3, 4, 8, 0), 12, "格式错误"],
            ]
        else:
            assert cells == [
                ["3", "C1", "张三", "2025-01-02", "99.5", "格式错误"],
                ["4", "C2", None, "2025-03-04 08:00:00", "12", "格式错误"],
            ]

    def test_refuses_reasons_that_do_not_match_the_rows(self, tmp_path: Path) -> None:
        writer = writer_for(tmp_path / "rejected.csv", layout_of(["客户编号"]))

        with pytest.raises(ValueError, match="2 rows, 2 row numbers and 1 reasons"):
            writer.write(frame_of(["C1"], ["C2"]), np.array([2, 3]), ["原因"])

    def test_refuses_a_format_it_cannot_write(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
            writer_for(tmp_path / "rejected.xls", layout_of(["客户编号"]))
