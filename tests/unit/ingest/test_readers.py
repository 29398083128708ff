"""open_source and SourceFile.chunks: CSV in the encodings Chinese software writes, Excel
workbooks, title rows, blank rows and two-row headers, with the row numbers Excel shows."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from churnradar.errors import InvalidInput
from churnradar.ingest.readers import Layout, RawChunk, SourceFile, open_source

NAMES = ("客户编号", "客户名称", "城市", "电话", "邮箱", "日期", "金额", "注册日期")


def names_score(*names: str) -> Callable[[list[str]], int]:
    """The caller's score: how many cells are recognised column names."""
    known = set(names or NAMES)
    return lambda cells: sum(cell in known for cell in cells)


def write_csv(path: Path, lines: Sequence[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "客户",
    merges: Sequence[str] = (),
    first_row: int = 1,
    more_sheets: Sequence[str] = (),
) -> Path:
    book = Workbook()
    worksheet = book.active
    assert worksheet is not None
    worksheet.title = sheet
    for number, cells in enumerate(rows, start=first_row):
        for column, value in enumerate(cells, start=1):
            if value is not None:
                worksheet.cell(number, column, value)
    for cells in merges:
        worksheet.merge_cells(cells)
    for name in more_sheets:
        book.create_sheet(name).append(["订单编号", "金额"])
        book[name].append(["D1", 5])
    book.save(path)
    return path


def read_all(source: SourceFile, rows: int = 100_000) -> tuple[list[list[Any]], list[int]]:
    chunks = list(source.chunks(rows))
    cells = [row for chunk in chunks for row in chunk.frame.to_numpy().tolist()]
    return cells, [int(number) for chunk in chunks for number in chunk.rows]


def opened(path: Path, **options: Any) -> tuple[Layout, list[list[Any]], list[int]]:
    options.setdefault("score", names_score())
    with open_source(path, **options) as source:
        cells, rows = read_all(source)
        return source.layout, cells, rows


def error_of(path: Path, **options: Any) -> InvalidInput:
    options.setdefault("score", names_score())
    with pytest.raises(InvalidInput) as caught, open_source(path, **options) as source:
        read_all(source)
    return caught.value


class TestOpenSource:
    @pytest.mark.parametrize(
        ("written", "detected"),
        [
            ("utf-8", "utf-8"),
            ("utf-8-sig", "utf-8-sig"),
            ("gb18030", "gb18030"),
            ("gbk", "gb18030"),
            ("utf-16", "utf-16"),
        ],
    )
    def test_reads_chinese_in_each_encoding(
        self, tmp_path: Path, written: str, detected: str
    ) -> None:
        lines = ["客户编号,客户名称,城市", "C001,张三,北京", "C002,李四,上海"]
        path = write_csv(tmp_path / "客户.csv", lines, written)

        layout, cells, rows = opened(path)

        assert layout == Layout(["客户编号", "客户名称", "城市"], None, 1, detected, None)
        assert cells == [["C001", "张三", "北京"], ["C002", "李四", "上海"]]
        assert rows == [2, 3]

    def test_keeps_an_encoding_it_is_given(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号,客户名称", "C001,张三"], "gbk")

        layout, cells, _ = opened(path, encoding="gbk")

        assert layout.encoding == "gbk"
        assert cells == [["C001", "张三"]]

    def test_takes_utf8_when_the_sample_ends_inside_a_character(self, tmp_path: Path) -> None:
        room = (1 << 20) - 1 - len("客户编号,客户名称\r\n".encode()) - len("C999,")
        rows, extra = divmod(room, len("C0000000,Ann\r\n"))
        filler = [f"C{'0' * (7 + extra)},Ann", *["C0000000,Ann"] * (rows - 1)]
        path = write_csv(tmp_path / "客户.csv", ["客户编号,客户名称", *filler, "C999,张三"])
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes()[: 1 << 20].decode("utf-8")  # the sample does end inside 张

        layout, cells, _ = opened(path)

        assert layout.encoding == "utf-8"
        assert cells[-1] == ["C999", "张三"]

    @pytest.mark.parametrize(
        ("name", "delimiter"),
        [("a.csv", "\t"), ("a.csv", ";"), ("a.txt", "|"), ("a.tsv", "\t"), ("a.txt", ",")],
    )
    def test_finds_the_delimiter(self, tmp_path: Path, name: str, delimiter: str) -> None:
        lines = ["2025年客户管理表", "客户编号|客户名称|城市", "C001|张,三|北京"]
        path = write_csv(tmp_path / name, [line.replace("|", delimiter) for line in lines])

        layout, cells, _ = opened(path)

        assert layout.headers == ["客户编号", "客户名称", "城市"]
        assert cells[0][0] == "C001"

    def test_skips_a_title_and_blank_rows_counting_them(self, tmp_path: Path) -> None:
        lines = ["2025年客户管理表,,", ",,", "", "客户编号,客户名称,城市", "", "C001,张三,北京"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, cells, rows = opened(path)

        assert (layout.header_row, layout.parents) == (4, None)
        assert cells == [["C001", "张三", "北京"]]
        assert rows == [6]

    def test_does_not_take_a_title_right_above_the_header_for_a_parent_row(
        self, tmp_path: Path
    ) -> None:
        path = write_csv(
            tmp_path / "客户.csv", ["2025年客户管理表,,", "客户编号,客户名称,城市", "C1,,"]
        )

        layout, cells, rows = opened(path)

        assert (layout.header_row, layout.parents, cells, rows) == (
            2,
            None,
            [["C1", None, None]],
            [3],
        )

    def test_takes_the_highest_scoring_row_and_the_earliest_on_a_tie(self, tmp_path: Path) -> None:
        lines = ["导出人,管理员", "", "编号,客户名称", "", "客户编号,客户名称", "客户编号,客户名称"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, cells, rows = opened(path)

        assert (layout.header_row, layout.headers) == (5, ["客户编号", "客户名称"])
        assert (cells, rows) == ([["客户编号", "客户名称"]], [6])

    def test_takes_the_first_row_of_several_cells_when_nothing_is_recognised(
        self, tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "客户.csv", ["Customers 2025", "", "id,name", "1,Ann"])

        layout, cells, _ = opened(path)

        assert (layout.header_row, layout.headers, cells) == (3, ["id", "name"], [["1", "Ann"]])

    @pytest.mark.parametrize("merged", [True, False])
    def test_reads_a_two_row_header(self, tmp_path: Path, merged: bool) -> None:
        rows: list[list[Any]] = [
            ["2025年客户管理表"],
            ["客户编号", "客户名称", "联系方式", None, "订单", None, "备注"],
            [None, None, "电话", "邮箱", "日期", "金额", None],
            ["C001", "张三", "138", None, date(2025, 3, 1), 99.5, "老客户"],
        ]
        merges = ["A1:G1", "A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:G3"] if merged else []
        path = write_xlsx(tmp_path / "客户.xlsx", rows, merges=merges)

        layout, cells, numbers = opened(path)

        assert layout.header_row == 3
        assert layout.headers == ["客户编号", "客户名称", "电话", "邮箱", "日期", "金额", "备注"]
        assert layout.parents == [
            "客户编号", "客户名称", "联系方式", "联系方式", "订单", "订单", "备注"
        ]  # fmt: skip
        assert layout.labels == [
            "客户编号", "客户名称", "联系方式电话", "联系方式邮箱", "订单日期", "订单金额", "备注"
        ]  # fmt: skip
        assert cells == [["C001", "张三", "138", None, date(2025, 3, 1), 99.5, "老客户"]]
        assert numbers == [4]

    def test_prefers_the_lower_header_row_when_the_pair_names_more(self, tmp_path: Path) -> None:
        lines = ["客户编号,客户名称,城市,联系方式,", ",,,电话,邮箱", "C001,张三,北京,138,a@b.cn"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, cells, _ = opened(path)

        assert layout.header_row == 2
        assert layout.headers == ["客户编号", "客户名称", "城市", "电话", "邮箱"]
        assert cells == [["C001", "张三", "北京", "138", "a@b.cn"]]

    def test_can_choose_a_header_only_its_joined_labels_name(self, tmp_path: Path) -> None:
        lines = ["注册,,订单,", "日期,金额,日期,金额", "2025-01-01,1,2025-02-01,2"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, _, rows = opened(path, score=names_score("注册日期", "注册金额", "订单日期"))

        assert layout.labels == ["注册日期", "注册金额", "订单日期", "订单金额"]
        assert rows == [3]

    def test_does_not_fill_a_parent_past_a_vertical_merge(self, tmp_path: Path) -> None:
        lines = ["客户编号,,联系方式,", ",客户名称,电话,邮箱", "C001,张三,138,a@b.cn"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, _, _ = opened(path)

        assert layout.headers == ["客户编号", "客户名称", "电话", "邮箱"]
        assert layout.parents == ["客户编号", "", "联系方式", "联系方式"]

    def test_reads_the_named_sheet(self, tmp_path: Path) -> None:
        path = write_xlsx(tmp_path / "客户.xlsx", [["客户编号"], ["C001"]], more_sheets=["订单"])

        layout, cells, _ = opened(path, sheet="订单")

        assert (layout.sheet, layout.headers, cells) == ("订单", ["订单编号", "金额"], [["D1", 5]])

    def test_reads_the_first_visible_sheet_by_default(self, tmp_path: Path) -> None:
        path = tmp_path / "客户.xlsx"
        book = Workbook()
        hidden = book.active
        assert hidden is not None
        hidden.title, hidden.sheet_state = "隐藏", "hidden"
        book.create_sheet("客户").append(["客户编号"])
        book["客户"].append(["C001"])
        book.save(path)

        layout, cells, _ = opened(path)

        assert (layout.sheet, cells) == ("客户", [["C001"]])

    def test_numbers_excel_rows_when_the_table_does_not_start_at_a1(self, tmp_path: Path) -> None:
        rows = [[None, None, "客户编号", "客户名称"], [], [None, None, "C001", "张三"]]
        path = write_xlsx(tmp_path / "客户.xlsx", rows, first_row=3)

        layout, cells, numbers = opened(path)

        assert (layout.header_row, layout.headers) == (3, ["客户编号", "客户名称"])
        assert (cells, numbers) == ([["C001", "张三"]], [5])

    @pytest.mark.parametrize(
        ("name", "content", "key"),
        [
            ("客户.pdf", b"%PDF", "ingest.file.unsupported_format"),
            ("客户.xls.bak", b"x", "ingest.file.unsupported_format"),
            ("客户.csv", b"", "ingest.file.empty"),
            ("客户.csv", b"\r\n,,\r\n\r\n", "ingest.file.empty"),
            ("客户.csv", "客户编号,客户名称\r\n,\r\n".encode(), "ingest.file.empty"),
            ("客户.csv", b'id,name\r\n1,Ann\r\n2,"Bob\r\n3,Cy', "ingest.file.unreadable"),
            ("客户.xlsx", b"", "ingest.file.empty"),
            ("客户.xlsx", b"PK\x03\x04 broken", "ingest.file.unreadable"),
        ],
    )
    def test_refuses_a_file_it_cannot_read(
        self, tmp_path: Path, name: str, content: bytes, key: str
    ) -> None:
        path = tmp_path / name
        path.write_bytes(content)

        error = error_of(path)

        assert error.key == key
        assert error.params["file"] == name

    def test_refuses_a_workbook_that_is_not_one(self, tmp_path: Path) -> None:
        path = tmp_path / "客户.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "no workbook here")

        assert error_of(path).key == "ingest.file.unreadable"

    def test_refuses_a_sheet_without_cells(self, tmp_path: Path) -> None:
        path = write_xlsx(tmp_path / "客户.xlsx", [])

        assert error_of(path).key == "ingest.file.empty"

    def test_refuses_a_missing_file(self, tmp_path: Path) -> None:
        error = error_of(tmp_path / "客户.csv")

        assert (error.key, error.params) == ("ingest.file.not_found", {"file": "客户.csv"})

    def test_refuses_an_unknown_sheet_naming_the_others(self, tmp_path: Path) -> None:
        path = write_xlsx(tmp_path / "客户.xlsx", [["客户编号"], ["C1"]], more_sheets=["订单"])

        error = error_of(path, sheet="投诉")

        assert error.key == "ingest.file.unknown_sheet"
        assert error.params == {"sheet": "投诉", "sheets": "客户, 订单"}

    def test_refuses_an_unknown_encoding(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号", "C1"])

        error = error_of(path, encoding="gb-9999")

        assert (error.key, error.params["encoding"]) == ("ingest.file.unknown_encoding", "gb-9999")

    def test_names_the_row_that_does_not_decode_while_scanning(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号,客户名称", "C1,张三"], "gbk")

        error = error_of(path, encoding="utf-8")

        assert error.key == "ingest.file.bad_encoding"
        assert error.params == {"file": "客户.csv", "encoding": "utf-8", "row": 1}

    def test_names_the_row_that_does_not_decode_while_streaming(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号,客户名称", *["C1,Ann"] * 5])
        path.write_bytes(path.read_bytes() + "C7,张三\r\n".encode("gbk"))

        error = error_of(path, scan_rows=2, encoding="utf-8")

        assert error.key == "ingest.file.bad_encoding"
        assert error.params == {"file": "客户.csv", "encoding": "utf-8", "row": 7}


class TestChunks:
    def test_streams_chunks_of_the_size_asked(self, tmp_path: Path) -> None:
        lines = ["客户编号", *[f"C{i}" for i in range(1, 6)]]
        path = write_csv(tmp_path / "客户.csv", lines)

        with open_source(path, score=names_score()) as source:
            chunks = list(source.chunks(2))

        assert [chunk.frame.to_numpy().ravel().tolist() for chunk in chunks] == [
            ["C1", "C2"],
            ["C3", "C4"],
            ["C5"],
        ]
        assert [chunk.rows.tolist() for chunk in chunks] == [[2, 3], [4, 5], [6]]
        assert all(chunk.rows.dtype == np.int64 for chunk in chunks)
        assert all(chunk.frame.columns.equals(pd.RangeIndex(1)) for chunk in chunks)

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_streams_again_when_asked_again(self, tmp_path: Path, suffix: str) -> None:
        rows: list[list[Any]] = [
            ["客户编号", "客户名称"],
            ["C1", "张三"],
            [None, None],
            ["C2", "李四"],
        ]
        if suffix == ".csv":
            lines = [",".join(cell or "" for cell in row) for row in rows]
            path = write_csv(tmp_path / "客户.csv", lines)
        else:
            path = write_xlsx(tmp_path / "客户.xlsx", rows)

        with open_source(path, score=names_score()) as source:
            first, second = read_all(source, 1), read_all(source, 1)

        assert first == second == ([["C1", "张三"], ["C2", "李四"]], [2, 4])

    def test_counts_a_quoted_line_break_as_one_row(self, tmp_path: Path) -> None:
        lines = ['"2025年\n客户表"', "客户编号,备注", 'C1,"第一行\r\n第二行"', "", "C2,正常"]
        path = write_csv(tmp_path / "客户.csv", lines)

        layout, cells, rows = opened(path, score=names_score("客户编号", "备注"))

        assert layout.header_row == 2
        assert cells == [["C1", "第一行\r\n第二行"], ["C2", "正常"]]
        assert rows == [3, 5]

    def test_pads_short_rows_and_keeps_the_cells_of_long_ones(self, tmp_path: Path) -> None:
        lines = ["客户编号,客户名称,城市", "C1,张三", "C2,李四,上海,多余", "C3,王五,广州"]
        path = write_csv(tmp_path / "客户.csv", lines)

        _, cells, _ = opened(path, scan_rows=1)

        assert cells == [
            ["C1", "张三", None, None],
            ["C2", "李四", "上海", "多余"],
            ["C3", "王五", "广州", None],
        ]

    def test_keeps_a_long_row_found_after_the_scan(self, tmp_path: Path) -> None:
        lines = ["客户编号,客户名称", *["C1,张三"] * 5, "C7,李四,,,,多余", "C8,王五"]
        path = write_csv(tmp_path / "客户.csv", lines)

        with open_source(path, score=names_score(), scan_rows=1) as source:
            chunks = list(source.chunks(4))

        assert [int(n) for chunk in chunks for n in chunk.rows] == [2, 3, 4, 5, 6, 7, 8]
        assert max(len(chunk.rows) for chunk in chunks) == 4
        (wide,) = [chunk.frame for chunk in chunks if 7 in chunk.rows]
        assert wide.iloc[-1].tolist() == ["C7", "李四", None, None, None, "多余"]

    def test_refuses_a_row_wider_than_excel_allows(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号,客户名称", "C1,张三", "," * 16_384])

        error = error_of(path, scan_rows=1)

        assert error.key == "ingest.file.unreadable"
        assert "16385" in error.params["reason"]

    def test_keeps_the_types_excel_gives(self, tmp_path: Path) -> None:
        rows: list[list[Any]] = [
            ["客户编号", "注册日期", "时间", "次数", "金额", "VIP", "备注"],
            ["C1", datetime(2025, 1, 2, 13, 30), time(9, 15), 3, 99.5, True, ""],
            ["C2", date(2025, 2, 3), None, None, -1.25, False, "老客户"],
        ]
        path = write_xlsx(tmp_path / "客户.xlsx", rows)

        _, cells, _ = opened(path)

        assert cells == [
            ["C1", datetime(2025, 1, 2, 13, 30), time(9, 15), 3, 99.5, True, None],
            ["C2", date(2025, 2, 3), None, None, -1.25, False, "老客户"],
        ]
        assert isinstance(cells[0][1], datetime)

    def test_leaves_out_empty_rows_but_counts_them(self, tmp_path: Path) -> None:
        rows: list[list[Any]] = [
            ["客户编号", "客户名称"],
            [None, None],
            ["C1", None],
            [],
            [None, "张三"],
        ]
        path = write_xlsx(tmp_path / "客户.xlsx", rows)

        _, cells, numbers = opened(path)

        assert (cells, numbers) == ([["C1", None], [None, "张三"]], [3, 5])

    def test_returns_raw_chunks(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "客户.csv", ["客户编号", "C1"])

        with open_source(path, score=names_score()) as source:
            (chunk,) = source.chunks()

        assert isinstance(chunk, RawChunk)
        assert chunk.frame.dtypes.tolist() == [np.dtype(object)]


class TestEncodingGuess:
    def test_latin1_text_is_refused_instead_of_read_as_chinese(self, tmp_path: Path) -> None:
        path = tmp_path / "latin.csv"
        path.write_bytes("customer id,name\r\nX1,Cafés Monégasques\r\n".encode("latin-1"))

        with pytest.raises(InvalidInput) as refused:
            open_source(path, score=names_score())

        assert refused.value.key == "ingest.file.unknown_text_encoding"

    def test_latin1_text_reads_when_its_encoding_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "latin.csv"
        path.write_bytes("customer id,name\r\nX1,Cafés Monégasques\r\n".encode("latin-1"))

        _, cells, _ = opened(path, score=names_score(), encoding="latin-1")

        assert cells[0][1] == "Cafés Monégasques"
