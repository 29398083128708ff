"""The files ``import_files.py`` imports: customers, and orders as a messy CSV and an XLSX.

Everything comes from one numpy seed, so two runs write the same bytes. The orders CSV is what
an ERP export looks like after a few hands: dates in three styles, amounts with and without a
currency sign and thousands separators, now and then in 万, quantities as ``3`` or ``3件``,
customer numbers with stray spaces. About 1% of its rows are invalid in one of three ways (a
date that does not exist, a customer number nobody has, a negative amount), so validation and
the rejected-rows file are part of what is measured. Columns are built whole with pyarrow
compute; only the XLSX is written row by row, as openpyxl wants it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook

CUSTOMER_HEADERS = ("客户编号", "客户名称", "区域", "负责人")
ORDER_HEADERS = ("订单号", "客户编号", "下单时间", "订单金额", "产品线", "数量", "订单状态")
CITIES = ("上海", "杭州", "苏州", "南京", "广州", "深圳", "北京", "成都", "武汉", "西安")
BRANDS = ("恒远", "华信", "东方", "金桥", "瑞丰", "新锐", "鼎盛", "博创", "安泰", "云帆")
SECTORS = ("科技", "贸易", "制造", "物流", "医疗器械", "食品", "建材", "电子")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
PRODUCT_LINES = ("软件授权", "实施服务", "运维服务", "硬件设备", "培训", "耗材")
STATUSES = ("已完成", "已退款", "已取消")
STATUS_WEIGHTS = (0.88, 0.06, 0.06)
FIRST_ORDER = np.datetime64("2023-01-01T00:00:00", "s")
LAST_ORDER = np.datetime64("2025-12-31T23:59:59", "s")
INVALID_SHARE = 0.01
# order numbers of the XLSX start here, so its rows never meet those of the CSV
XLSX_ORDER_BASE = 500_000_000
CSV_ORDER_BASE = 100_000_000


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    invalid: int  # rows the import should reject
    seconds: float

    @property
    def megabytes(self) -> float:
        return self.path.stat().st_size / 2**20


def customer_numbers(count: int) -> pa.Array:
    return _prefixed("KH", np.arange(1, count + 1), width=max(7, len(str(count))))


def write_customers(path: Path, count: int, seed: int) -> pd.DataFrame:
    """A customer table of ``count`` companies; returns it as written."""
    rng = np.random.default_rng(seed)
    names = pd.Series(
        np.char.add(
            np.char.add(_pick(rng, CITIES, count), _pick(rng, BRANDS, count)),
            np.char.add(_pick(rng, SECTORS, count), "有限公司"),
        ),
        dtype=object,
    )
    repeated = names.duplicated().to_numpy()
    names[repeated] += pd.Series(np.flatnonzero(repeated) + 1).map("（{}）".format).to_numpy()
    frame = pd.DataFrame(
        {
            "客户编号": customer_numbers(count).to_pandas(),
            "客户名称": names,
            "区域": _pick(rng, REGIONS, count),
            "负责人": "",
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    return frame


@dataclass(frozen=True)
class Orders:
    """Order rows as typed values, with the positions of the rows made invalid."""

    numbers: pa.Array
    customers: pa.Array
    moments: npt.NDArray[np.datetime64]
    amounts: npt.NDArray[np.float64]
    products: npt.NDArray[np.str_]
    quantities: npt.NDArray[np.int64]
    statuses: npt.NDArray[np.str_]
    bad_date: npt.NDArray[np.bool_]
    bad_customer: npt.NDArray[np.bool_]
    negative: npt.NDArray[np.bool_]

    @property
    def invalid(self) -> int:
        return int((self.bad_date | self.bad_customer | self.negative).sum())


def make_orders(count: int, customers: int, *, first_number: int, seed: int) -> Orders:
    rng = np.random.default_rng(seed)
    span = int((LAST_ORDER - FIRST_ORDER).astype(np.int64))
    moments = FIRST_ORDER + rng.integers(0, span, count).astype("timedelta64[s]")
    amounts = np.round(np.exp(rng.normal(7.5, 1.1, count)), 2)
    quantities = 1 + rng.poisson(3, count)
    # three disjoint thirds of the invalid rows; a row is never invalid twice
    broken = rng.permutation(count)[: round(count * INVALID_SHARE)]
    masks = [np.zeros(count, dtype=bool) for _ in range(3)]
    for mask, part in zip(masks, np.array_split(broken, 3), strict=True):
        mask[part] = True
    customer_ids = customer_numbers(customers).take(pa.array(rng.integers(0, customers, count)))
    unknown = _prefixed("KX", rng.integers(1, 10**6, count), width=7)
    return Orders(
        numbers=_prefixed("SO", first_number + np.arange(count), width=9),
        customers=pc.if_else(pa.array(masks[1]), unknown, customer_ids),
        moments=moments,
        amounts=np.where(masks[2], -amounts, amounts),
        products=_pick(rng, PRODUCT_LINES, count),
        quantities=quantities,
        statuses=rng.choice(np.array(STATUSES), count, p=STATUS_WEIGHTS),
        bad_date=masks[0],
        bad_customer=masks[1],
        negative=masks[2],
    )


def write_orders_csv(orders: Orders, paths: dict[str, Path], seed: int) -> None:
    """The orders as the messy text of a CSV, once per ``{encoding: path}``."""
    rng = np.random.default_rng(seed)
    count = len(orders.amounts)
    customers = orders.customers
    spaced = pa.array(rng.random(count) < 0.01)  # "KH0000012 " as pasted from somewhere
    customers = pc.if_else(spaced, pc.binary_join_element_wise(customers, " ", ""), customers)
    quantities = pc.cast(pa.array(orders.quantities), pa.string())
    counted = pa.array(rng.random(count) < 0.1)
    quantities = pc.if_else(counted, pc.binary_join_element_wise(quantities, "件", ""), quantities)
    frame = pd.DataFrame(
        {
            "订单号": orders.numbers.to_pandas(),
            "客户编号": customers.to_pandas(),
            "下单时间": _messy_dates(orders.moments, orders.bad_date, rng).to_pandas(),
            "订单金额": _messy_amounts(orders.amounts, rng).to_pandas(),
            "产品线": orders.products,
            "数量": quantities.to_pandas(),
            "订单状态": orders.statuses,
        }
    )
    for encoding, path in paths.items():
        frame.to_csv(path, index=False, encoding=encoding)


def write_orders_xlsx(orders: Orders, path: Path) -> None:
    """The orders as an Excel sheet: real date cells, numbers as numbers."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("订单")
    sheet.append(list(ORDER_HEADERS))
    moments: list[datetime | str] = list(pd.DatetimeIndex(orders.moments).to_pydatetime())
    for position in np.flatnonzero(orders.bad_date):
        moments[position] = "2025-02-30"
    columns = (
        orders.numbers.to_pylist(),
        orders.customers.to_pylist(),
        moments,
        orders.amounts.tolist(),
        orders.products.tolist(),
        orders.quantities.tolist(),
        orders.statuses.tolist(),
    )
    for row in zip(*columns, strict=True):
        sheet.append(row)
    book.save(path)


def _messy_dates(
    moments: npt.NDArray[np.datetime64], bad: npt.NDArray[np.bool_], rng: np.random.Generator
) -> pa.Array:
    """2025-01-03, 2025/1/3 14:05 or 2025年1月3日; a date that cannot be where ``bad``."""
    stamps = pd.DatetimeIndex(moments)
    year, month, day = (
        pc.cast(pa.array(part), pa.string()) for part in (stamps.year, stamps.month, stamps.day)
    )
    hour, minute = (
        pc.utf8_lpad(pc.cast(pa.array(part), pa.string()), 2, "0")
        for part in (stamps.hour, stamps.minute)
    )
    iso = pa.array(np.datetime_as_string(moments, unit="D"))
    slashed = pc.binary_join_element_wise(year, "/", month, "/", day, " ", hour, ":", minute, "")
    chinese = pc.binary_join_element_wise(year, "年", month, "月", day, "日", "")
    style = rng.choice(3, len(moments), p=(0.45, 0.35, 0.20))
    text = pc.case_when(
        pc.make_struct(pa.array(style == 0), pa.array(style == 1)), iso, slashed, chinese
    )
    impossible = pc.binary_join_element_wise(year, "-", month, "-32", "")  # 2025-1-32
    return pc.if_else(pa.array(bad), impossible, text)


def _messy_amounts(amounts: npt.NDArray[np.float64], rng: np.random.Generator) -> pa.Array:
    """1234.5, ¥1,234.50, 860元 or 2万, whatever the sign."""
    count = len(amounts)
    plain = pc.cast(pa.array(amounts), pa.string())
    style = rng.choice(4, count, p=(0.545, 0.40, 0.05, 0.005))
    # 万 amounts are round: their value is what the cell says
    tens = rng.integers(1, 40, count) / 2  # 0.5万 .. 19.5万
    wan = pc.binary_join_element_wise(pc.cast(pa.array(tens), pa.string()), "万", "")
    wan = pc.if_else(pa.array(amounts < 0), pc.binary_join_element_wise("-", wan, ""), wan)
    yuan = pc.binary_join_element_wise(plain, "元", "")
    text = pc.case_when(
        pc.make_struct(pa.array(style == 0), pa.array(style == 1), pa.array(style == 2)),
        plain,
        _with_yen(amounts),
        yuan,
        wan,
    )
    return text


def _with_yen(amounts: npt.NDArray[np.float64]) -> pa.Array:
    """¥1,234.50 (and -¥1,234.50), thousands grouped, two decimals."""
    cents = np.round(np.abs(amounts) * 100).astype(np.int64)
    whole = cents // 100

    def digits(values: npt.NDArray[np.int64], width: int = 0) -> pa.Array:
        text = pc.cast(pa.array(values), pa.string())
        return pc.utf8_lpad(text, width, "0") if width else text

    millions, thousands, units = whole // 1_000_000, whole // 1000 % 1000, whole % 1000
    grouped = pc.case_when(
        pc.make_struct(pa.array(whole >= 1_000_000), pa.array(whole >= 1000)),
        pc.binary_join_element_wise(
            digits(millions), ",", digits(thousands, 3), ",", digits(units, 3), ""
        ),
        pc.binary_join_element_wise(digits(thousands), ",", digits(units, 3), ""),
        digits(units),
    )
    sign = pc.if_else(pa.array(amounts < 0), "-", "")
    return pc.binary_join_element_wise(sign, "¥", grouped, ".", digits(cents % 100, 2), "")


def _prefixed(prefix: str, numbers: npt.NDArray[np.int64], *, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def _pick(rng: np.random.Generator, options: tuple[str, ...], count: int) -> npt.NDArray[np.str_]:
    return np.array(options)[rng.integers(0, len(options), count)]
