"""Realistic messy import files, written by code, with what a correct import keeps of them.

Each factory writes a file the way Chinese office software does (GBK CSV from Excel's "save as
CSV", an XLSX with a title row and a two-row header whose merged cells were unmerged, a
UTF-8-with-BOM export) and returns the ids a correct import keeps and the rows it rejects,
with the column each rejection names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook


@dataclass
class Expected:
    path: Path
    kept: set[str]  # external ids a correct import stores
    rejected: dict[int, str] = field(default_factory=dict)  # Excel row -> column named


def _write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)


def customers_gbk_csv(folder: Path) -> Expected:
    """The sales team's customer table, saved by Excel as CSV (GBK), with a title row."""
    rows = [
        ["2025年客户管理表", "", "", "", "", "", "", "", ""],
        [
            "客户编号",
            "客户名称",
            "负责人",
            "区域",
            "行业",
            "客户类型",
            "最近跟进日期",
            "关键联系人",
            "联系电话",
        ],
        [
            "C001",
            "上海华东贸易有限公司",
            "张伟",
            "华东",
            "贸易",
            "企业",
            "2025/10/3",
            "李明",
            "13800000001",
        ],
        [
            "C002",
            "北京恒通科技\u3000",
            "王芳",
            "华北",
            "软件",
            "公司",
            "2025年9月15日",
            "赵强",
            "13900000002",
        ],
        ["C003", "广州南方食品", "", "华南", "食品", "企业", "45900", "", ""],
        [
            "C002",
            "北京恒通科技\u3000",
            "王芳",
            "华北",
            "软件",
            "公司",
            "2025年9月15日",
            "赵强",
            "13900000002",
        ],  # row 6: the same row again
        ["C004", "", "张伟", "华东", "贸易", "企业", "", "", ""],  # row 7: no name
        ["C005", "深圳前海物流", "刘洋", "华南", "物流", "企业", "", "", ""],  # 8: unknown owner
        ["C006", "杭州西湖茶业", "张伟", "华东", "食品", "合作社", "", "", ""],  # 9: bad kind
        ["C007", "成都天府餐饮", "王芳", "西南", "餐饮", "个人", "2025-13-01", "", ""],  # 10
    ]
    path = folder / "客户管理表.csv"
    _write_csv(path, rows, "gbk")
    return Expected(
        path,
        kept={"C001", "C002", "C003"},
        rejected={6: "客户编号", 7: "客户名称", 8: "负责人", 9: "客户类型", 10: "最近跟进日期"},
    )


def orders_xlsx(folder: Path) -> Expected:
    """An ERP order export: title row, two-row header with merged group labels (unmerged),
    Excel date cells and serial numbers, money as text with ¥ and 万."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "订单"
    sheet.append(["2025年订单明细"])
    sheet.merge_cells("A1:G1")
    sheet.append(["订单号", "客户", None, "下单时间", "订单", None, None])
    sheet.append([None, "编号", "名称", None, "金额", "产品线", "状态"])
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("E2:G2")
    sheet.unmerge_cells("B2:C2")  # exports often come with merges removed
    rows = [
        [
            "SO-1",
            "C001",
            "上海华东贸易有限公司",
            datetime(2025, 1, 3, 10, 30),
            "¥1,234.50",
            "软件",
            "已完成",
        ],
        ["SO-2", "C001", "上海华东贸易有限公司", 45700, "2万", "服务", "完成"],
        ["SO-3", None, "北京恒通科技", "2025/2/3", 880, "软件", "已退款"],
        ["SO-4", "C999", "不存在的公司", "2025-03-01", 100, "软件", "已完成"],  # 7: unknown
        ["SO-5", "C003", "广州南方食品", "2025-02-30", 100, "软件", "已完成"],  # 8: bad date
        [
            "SO-1",
            "C001",
            "上海华东贸易有限公司",
            datetime(2025, 1, 3, 10, 30),
            "¥1,234.50",
            "软件",
            "已完成",
        ],  # 9: repeats row 4
        ["SO-6", "C003", "广州南方食品", "2025年4月1日", "1.5万元", "食品", "已发货"],
        ["SO-7", "C003", "广州南方食品", "2025-04-02", "abc", "食品", "已完成"],  # 11: amount
    ]
    for row in rows:
        sheet.append(row)
    path = folder / "订单导出.xlsx"
    book.save(path)
    return Expected(
        path,
        kept={"SO-1", "SO-2", "SO-3", "SO-6"},
        rejected={7: "客户编号", 8: "下单时间", 9: "订单号", 11: "订单金额"},
    )


def complaints_bom_csv(folder: Path) -> Expected:
    """A service desk export in English, UTF-8 with BOM."""
    rows = [
        [
            "Ticket ID",
            "Customer ID",
            "Opened at",
            "Category",
            "Priority",
            "Description",
            "Resolved at",
            "Satisfaction",
        ],
        [
            "T-1",
            "C001",
            "2025-05-01 09:00",
            "delivery",
            "high",
            "late delivery",
            "2025-05-02 18:00",
            "不满意",
        ],
        ["T-2", "C002", "2025-05-03 09:00", "invoice", "P4", "wrong invoice", "", "5"],
        [
            "T-3",
            "C003",
            "2025-05-04 09:00",
            "quality",
            "urgent",
            "broken",
            "2025-05-01 09:00",
            "",
        ],  # row 4: resolved before opened
        ["T-4", "C001", "2025-05-05 09:00", "quality", "medium", "scratches", "", "7"],  # 5
    ]
    path = folder / "complaints.csv"
    _write_csv(path, rows, "utf-8-sig")
    return Expected(path, kept={"T-1", "T-2"}, rejected={4: "Resolved at", 5: "Satisfaction"})
