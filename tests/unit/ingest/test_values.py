"""Cell parsers: each accepted way of writing a value, each problem code, typed XLSX cells,
missing cells, and the raw index kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnradar.ingest.values import (
    ParsedColumn,
    check_length,
    check_range,
    clean_text,
    parse_booleans,
    parse_choices,
    parse_datetimes,
    parse_integers,
    parse_money,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MISSING = (None, np.nan, pd.NA, "", "   ", "\u3000", "\ufeff")
FIXED_SEED = settings(derandomize=True, database=None)


def cells(*values: Any, index: Any = None) -> pd.Series:
    """A raw column as the readers hand it over: object cells, any index."""
    return pd.Series(list(values), index=index, dtype=object)


def one(parsed: ParsedColumn) -> tuple[Any, Any]:
    """The value and the problem code of a one-cell column."""
    return parsed.values.iloc[0], parsed.errors.iloc[0]


def utc(*parts: int) -> pd.Timestamp:
    return pd.Timestamp(datetime(*parts), tz="UTC")  # type: ignore[arg-type]


def shanghai(text: Any) -> tuple[Any, Any]:
    return one(parse_datetimes(cells(text), SHANGHAI))


class TestCleanText:
    def test_trims_and_normalises_full_width_forms(self) -> None:
        text = clean_text(
            cells(" ２０２５年 ", "\u3000ＡＢＣ\xa0", "\ufeff客户\u200b", "￥１２，３")
        )

        assert text.tolist() == ["2025年", "ABC", "客户", "¥12,3"]

    def test_keeps_inner_spaces_and_punctuation_as_written(self) -> None:
        assert clean_text(cells("上海 浦东", "a  b")).tolist() == ["上海 浦东", "a  b"]

    def test_empty_cells_are_missing(self) -> None:
        text = clean_text(cells(*MISSING))

        assert text.isna().all()

    def test_typed_xlsx_cells_read_as_excel_shows_them(self) -> None:
        text = clean_text(
            cells(123.0, 7, 1.5, True, False, datetime(2025, 1, 3, 14, 5), date(2025, 1, 3))
        )

        assert text.tolist() == [
            "123",
            "7",
            "1.5",
            "TRUE",
            "FALSE",
            "2025-01-03T14:05:00",
            "2025-01-03",
        ]

    def test_rare_typed_cells_read_as_their_text(self) -> None:
        text = clean_text(cells(time(14, 5), Decimal("1.50"), "x"))

        assert text.tolist() == ["14:05:00", "1.50", "x"]

    def test_keeps_the_index_and_gives_a_string_dtype(self) -> None:
        text = clean_text(cells(" a", None, index=[7, 3]))

        assert text.index.tolist() == [7, 3]
        assert pd.api.types.is_string_dtype(text.dtype)
        assert text.loc[7] == "a"
        assert pd.isna(text.loc[3])

    def test_takes_typed_columns(self) -> None:
        assert clean_text(pd.Series([1.0, np.nan, 2.5])).tolist()[::2] == ["1", "2.5"]
        assert clean_text(pd.Series([" x ", None], dtype="str")).tolist()[0] == "x"


class TestParseDatetimes:
    @pytest.mark.parametrize(
        "text",
        [
            "2025-01-03",
            "2025/1/3",
            "2025.1.3",
            "2025年1月3日",
            "2025年1月3号",
            "20250103",
            "２０２５年１月３日",
            " 2025-01-03 ",
        ],
    )
    def test_reads_a_date_as_local_midnight(self, text: str) -> None:
        assert shanghai(text) == (utc(2025, 1, 2, 16), None)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-01-03 14:05", utc(2025, 1, 3, 6, 5)),
            ("2025/1/3 14:05:30", utc(2025, 1, 3, 6, 5, 30)),
            ("2025-01-03T14:05:30.123", utc(2025, 1, 3, 6, 5, 30, 123000)),
            ("20250103 08:00", utc(2025, 1, 3)),
            ("2025年1月3日 14时05分", utc(2025, 1, 3, 6, 5)),
            ("2025年1月3日14时05分30秒", utc(2025, 1, 3, 6, 5, 30)),
        ],
    )
    def test_reads_a_time_of_day(self, text: str, expected: pd.Timestamp) -> None:
        assert shanghai(text) == (expected, None)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-01-03T14:05:00+08:00", utc(2025, 1, 3, 6, 5)),
            ("2025-01-03T14:05:00Z", utc(2025, 1, 3, 14, 5)),
            ("2025-01-03 14:05:00-0500", utc(2025, 1, 3, 19, 5)),
            ("2025-01-03T14:05+05:30", utc(2025, 1, 3, 8, 35)),
        ],
    )
    def test_an_offset_overrides_the_zone(self, text: str, expected: pd.Timestamp) -> None:
        assert shanghai(text) == (expected, None)

    def test_shanghai_morning_is_utc_midnight(self) -> None:
        assert shanghai("2025-01-03 08:00") == (utc(2025, 1, 3), None)

    @pytest.mark.parametrize(
        ("serial", "day"),
        [
            ("45292", date(2024, 1, 1)),
            (45294, date(2024, 1, 3)),
            (45295.0, date(2024, 1, 4)),
            ("60", date(1900, 2, 28)),
            ("61", date(1900, 3, 1)),
        ],
    )
    def test_reads_excel_serial_days(self, serial: Any, day: date) -> None:
        parsed = parse_datetimes(cells(serial), SHANGHAI, earliest_year=1900)

        assert one(parsed) == (pd.Timestamp(day, tz=SHANGHAI), None)

    @pytest.mark.parametrize("serial", ["45294.5", 45294.5])
    def test_reads_the_time_in_a_serial(self, serial: Any) -> None:
        assert shanghai(serial) == (utc(2024, 1, 3, 4), None)  # 12:00 in Shanghai

    def test_reads_an_eight_digit_number_as_a_date(self) -> None:
        assert shanghai(20250103) == (utc(2025, 1, 2, 16), None)

    def test_reads_xlsx_datetimes_as_wall_clock_times(self) -> None:
        parsed = parse_datetimes(
            cells(datetime(2025, 1, 3, 8), date(2025, 1, 3), pd.Timestamp("2025-01-03 09:00")),
            SHANGHAI,
        )

        assert parsed.values.tolist() == [utc(2025, 1, 3), utc(2025, 1, 2, 16), utc(2025, 1, 3, 1)]
        assert parsed.errors.isna().all()

    def test_aware_datetimes_keep_their_offset(self) -> None:
        new_york = timezone(timedelta(hours=-5))
        parsed = parse_datetimes(
            cells(datetime(2025, 1, 3, 8, tzinfo=UTC), datetime(2025, 1, 3, 8)), SHANGHAI
        )
        mixed = parse_datetimes(
            cells(datetime(2025, 1, 3, tzinfo=new_york), datetime(2025, 1, 3, tzinfo=UTC)),
            SHANGHAI,
        )

        assert parsed.values.tolist() == [utc(2025, 1, 3, 8), utc(2025, 1, 3)]
        assert mixed.values.tolist() == [utc(2025, 1, 3, 5), utc(2025, 1, 3)]

    def test_mixes_text_and_typed_cells(self) -> None:
        parsed = parse_datetimes(cells("2025-01-03", datetime(2025, 1, 4), 45295, None), SHANGHAI)

        expected = [utc(2025, 1, 2, 16), utc(2025, 1, 3, 16), utc(2024, 1, 3, 16)]
        assert parsed.values.tolist()[:3] == expected
        assert pd.isna(parsed.values.iloc[3])

    @pytest.mark.parametrize(
        "text",
        [
            "2025-02-30",
            "2025-13-01",
            "2025-00-10",
            "2025-01-32",
            "2025-01-03 24:00",
            "2025-01-03 12:60",
            "2025-01-03 12:00:60",
            "2025-01",
            "1/3/2025",
            "20251301",
            "2025010",
            "123456",
            "0",
            "2958466",
            "昨天",
            "2025-01-03 下午",
        ],
    )
    def test_refuses_what_is_not_a_date(self, text: str) -> None:
        value, error = shanghai(text)

        assert pd.isna(value)
        assert error == "bad_date"

    def test_accepts_february_29_in_a_leap_year_only(self) -> None:
        assert shanghai("2024-02-29")[1] is None
        assert shanghai("2025-02-29")[1] == "bad_date"

    @pytest.mark.parametrize("cell", [time(14, 5), True, timedelta(days=1)])
    def test_refuses_typed_cells_that_are_not_dates(self, cell: Any) -> None:
        value, error = shanghai(cell)

        assert pd.isna(value)
        assert error == "bad_date"

    @pytest.mark.parametrize("cell", ["1", 1, "1969-12-31 23:59", "1900-01-01", date(1, 1, 1)])
    def test_refuses_dates_before_the_earliest_year(self, cell: Any) -> None:
        value, error = shanghai(cell)

        assert pd.isna(value)
        assert error == "date_too_old"

    def test_the_earliest_year_can_be_earlier(self) -> None:
        parsed = parse_datetimes(cells("1950-06-01", "1899-12-31"), SHANGHAI, earliest_year=1900)

        assert parsed.errors.tolist() == [None, "date_too_old"]

    def test_refuses_dates_after_the_latest(self) -> None:
        latest = datetime(2025, 1, 3, 12)  # naive: in Shanghai
        parsed = parse_datetimes(
            cells("2025-01-03 12:00", "2025-01-03 12:01", "2025-01-03T05:00Z"),
            SHANGHAI,
            latest=latest,
        )

        assert parsed.errors.tolist() == [None, "future_date", "future_date"]
        assert pd.isna(parsed.values.iloc[1])

    @pytest.mark.parametrize(
        "cell", ["3025-01-01", "9999-12-31", date(2300, 1, 1), datetime(9999, 1, 1)]
    )
    def test_far_future_dates_are_future_without_a_latest(self, cell: Any) -> None:
        assert shanghai(cell)[1] == "future_date"

    def test_missing_cells_have_no_value_and_no_problem(self) -> None:
        parsed = parse_datetimes(cells(*MISSING), SHANGHAI)

        assert parsed.values.isna().all()
        assert parsed.errors.isna().all()

    def test_keeps_the_index_and_gives_nanosecond_utc(self) -> None:
        parsed = parse_datetimes(cells("2025-01-03", "x", index=["b", "a"]), SHANGHAI)

        assert str(parsed.values.dtype) == "datetime64[ns, UTC]"
        assert parsed.values.index.tolist() == ["b", "a"]
        assert parsed.errors.to_dict() == {"b": None, "a": "bad_date"}

    def test_a_skipped_local_time_moves_forward(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        parsed = parse_datetimes(cells("2025-03-30 02:30"), berlin)  # clocks jump 02:00 → 03:00

        assert one(parsed) == (utc(2025, 3, 30, 1), None)

    def test_a_repeated_local_time_is_read_as_standard_time(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        parsed = parse_datetimes(cells("2025-10-26 02:30"), berlin)  # 02:00-03:00 twice

        assert one(parsed) == (utc(2025, 10, 26, 1, 30), None)

    def test_takes_a_datetime_column(self) -> None:
        parsed = parse_datetimes(pd.Series([pd.Timestamp("2025-01-03 08:00"), pd.NaT]), SHANGHAI)

        assert parsed.values.iloc[0] == utc(2025, 1, 3)
        assert parsed.errors.isna().all()

    @FIXED_SEED
    @given(st.dates(min_value=date(1970, 1, 2), max_value=date(2262, 4, 10)))
    def test_chinese_dates_round_trip(self, day: date) -> None:
        parsed = parse_datetimes(cells(f"{day.year}年{day.month}月{day.day}日"), SHANGHAI)

        assert parsed.values.iloc[0] == pd.Timestamp(day, tz=SHANGHAI)

    @FIXED_SEED
    @given(
        st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2262, 4, 10)),
        st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d %H:%M:%S"]),
    )
    def test_utc_times_round_trip(self, moment: datetime, layout: str) -> None:
        text = moment.strftime(layout) + "Z"
        parsed = parse_datetimes(cells(text), SHANGHAI)

        assert parsed.values.iloc[0] == pd.Timestamp(moment.replace(microsecond=0), tz="UTC")


class TestParseMoney:
    @pytest.mark.parametrize(
        ("text", "amount"),
        [
            ("1234.5", 1234.5),
            ("¥1,234.50", 1234.5),
            ("￥1,234.50", 1234.5),
            ("1，234.50元", 1234.5),
            ("¥ 12", 12.0),
            ("12 元", 12.0),
            ("12圆", 12.0),
            ("RMB 20", 20.0),
            ("rmb20", 20.0),
            ("20 CNY", 20.0),
            ("人民币20元", 20.0),
            ("2万", 20000.0),
            ("1.5万元", 15000.0),
            ("3.2亿", 320000000.0),
            ("5千", 5000.0),
            ("人民币 2 万元", 20000.0),
            ("-5", -5.0),
            ("−5", -5.0),
            ("¥-5", -5.0),
            ("-¥5", -5.0),
            ("+5", 5.0),
            ("(123.00)", -123.0),
            ("(¥1,000)", -1000.0),
            (".5", 0.5),
            ("12.", 12.0),
            ("12.345", 12.35),
            ("１２３", 123.0),
        ],
    )
    def test_reads_written_amounts(self, text: str, amount: float) -> None:
        assert one(parse_money(cells(text))) == (amount, None)

    @pytest.mark.parametrize("cell", [1234.5, 12, 12.345, np.float64(7.25), np.int64(3)])
    def test_reads_xlsx_numbers(self, cell: Any) -> None:
        assert one(parse_money(cells(cell))) == (round(float(cell), 2), None)

    @pytest.mark.parametrize("text", ["-", "--", "—", "——", *MISSING])
    def test_a_dash_or_nothing_is_empty(self, text: Any) -> None:
        value, error = one(parse_money(cells(text)))

        assert np.isnan(value)
        assert error is None

    @pytest.mark.parametrize(
        "cell",
        [
            "abc",
            "1,5",
            "12,34",
            "1.2.3",
            "$5",
            "USD 5",
            "2万5",
            "(5",
            "5)",
            "--5",
            "1e5",
            "5%",
            True,
            datetime(2025, 1, 3),
            float("inf"),
        ],
    )
    def test_refuses_what_is_not_an_amount(self, cell: Any) -> None:
        value, error = one(parse_money(cells(cell)))

        assert np.isnan(value)
        assert error == "bad_amount"

    def test_keeps_the_index_and_gives_float64(self) -> None:
        parsed = parse_money(cells("¥5", "x", None, index=[30, 20, 10]))

        assert parsed.values.dtype == np.float64
        assert parsed.values.index.tolist() == [30, 20, 10]
        assert parsed.errors.tolist() == [None, "bad_amount", None]

    @FIXED_SEED
    @given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
    def test_formatted_amounts_round_trip(self, amount: Decimal) -> None:
        text = f"¥{amount:,.2f}" if amount >= 0 else f"(¥{-amount:,.2f})"

        assert parse_money(cells(text)).values.iloc[0] == float(amount)


class TestParseIntegers:
    @pytest.mark.parametrize(
        ("cell", "number"),
        [
            ("3", 3),
            ("3.0", 3),
            ("3.", 3),
            ("-3", -3),
            ("+3", 3),
            ("1,000", 1000),
            ("1,000.00", 1000),
            ("３", 3),
            ("3件", 3),
            ("3 个", 3),
            ("5分", 5),
            ("12次", 12),
            ("0", 0),
            ("999999999999999999", 999_999_999_999_999_999),
            (4.0, 4),
            (7, 7),
            (np.int64(9), 9),
            (2**53, 2**53),
        ],
    )
    def test_reads_whole_numbers(self, cell: Any, number: int) -> None:
        assert one(parse_integers(cells(cell))) == (number, None)

    @pytest.mark.parametrize("cell", ["3.5", "3.05件", 4.5, -0.25])
    def test_refuses_fractions(self, cell: Any) -> None:
        value, error = one(parse_integers(cells(cell)))

        assert value is pd.NA
        assert error == "not_integer"

    @pytest.mark.parametrize(
        "cell",
        [
            "abc",
            "3kg",
            "3件件",
            "1,00",
            "1e3",
            "9999999999999999999",
            "满意",
            True,
            date(2025, 1, 3),
            float("inf"),
            1e20,
        ],
    )
    def test_refuses_what_is_not_a_number(self, cell: Any) -> None:
        value, error = one(parse_integers(cells(cell)))

        assert value is pd.NA
        assert error == "bad_integer"

    def test_reads_labels_ignoring_case_and_width(self) -> None:
        labels = {"非常满意": 5, "满意": 4, "一般": 3, "Very Satisfied": 5}
        parsed = parse_integers(
            cells(" 满意 ", "非常满意", "VERY SATISFIED", "4", "好"), labels=labels
        )

        assert parsed.values.tolist() == [4, 5, 5, 4, pd.NA]
        assert parsed.errors.tolist() == [None, None, None, None, "bad_integer"]

    def test_refuses_labels_that_mean_two_numbers(self) -> None:
        with pytest.raises(ValueError, match="means two things"):
            parse_integers(cells("a"), labels={"Good": 4, "good": 5})

    def test_missing_cells_and_the_index(self) -> None:
        parsed = parse_integers(cells(*MISSING, "2", index=range(10, 18)))

        assert str(parsed.values.dtype) == "Int64"
        assert parsed.values.index.tolist() == list(range(10, 18))
        assert parsed.values.isna().sum() == 7
        assert parsed.errors.isna().all()

    @FIXED_SEED
    @given(st.integers(min_value=-(10**15), max_value=10**15))
    def test_formatted_numbers_round_trip(self, number: int) -> None:
        assert parse_integers(cells(f"{number:,}件")).values.iloc[0] == number


class TestParseBooleans:
    @pytest.mark.parametrize(
        "cell",
        ["是", "Y", "y", "yes", "YES", "true", "True", "T", "1", "√", "✓", "✔", "对", "有", "关键"],
    )
    def test_reads_yes(self, cell: str) -> None:
        assert one(parse_booleans(cells(cell))) == (True, None)

    @pytest.mark.parametrize(
        "cell", ["否", "N", "no", "No", "false", "FALSE", "f", "0", "×", "✗", "✘", "错", "无", "非"]
    )
    def test_reads_no(self, cell: str) -> None:
        assert one(parse_booleans(cells(cell))) == (False, None)

    @pytest.mark.parametrize(
        ("cell", "flag"),
        [
            (True, True),
            (False, False),
            (1, True),
            (0, False),
            (1.0, True),
            (0.0, False),
            (np.bool_(True), True),
        ],
    )
    def test_reads_xlsx_values(self, cell: Any, flag: bool) -> None:
        assert one(parse_booleans(cells(cell))) == (flag, None)

    @pytest.mark.parametrize("cell", ["x", "X", "maybe", "是的", "2", 2, 0.5, date(2025, 1, 3)])
    def test_refuses_other_values(self, cell: Any) -> None:
        value, error = one(parse_booleans(cells(cell)))

        assert value is pd.NA
        assert error == "bad_boolean"

    def test_missing_cells_and_the_index(self) -> None:
        parsed = parse_booleans(cells(*MISSING, "是", index=list("abcdefgh")))

        assert str(parsed.values.dtype) == "boolean"
        assert parsed.values.index.tolist() == list("abcdefgh")
        assert parsed.values.isna().sum() == 7
        assert parsed.errors.isna().all()


CHANNELS = {"电话": "phone", "Phone Call": "phone", "拜访": "visit", "上门 拜访": "visit"}


class TestParseChoices:
    @pytest.mark.parametrize(
        ("cell", "code"),
        [
            ("电话", "phone"),
            (" 电话 ", "phone"),
            ("phone call", "phone"),
            ("PHONECALL", "phone"),
            ("Phone  Call", "phone"),
            ("Ｐｈｏｎｅ Ｃａｌｌ", "phone"),
            ("上门拜访", "visit"),
            ("上门\u3000拜访", "visit"),
        ],
    )
    def test_matches_ignoring_case_width_and_spaces(self, cell: str, code: str) -> None:
        assert one(parse_choices(cells(cell), CHANNELS)) == (code, None)

    @pytest.mark.parametrize("cell", ["邮件", "phone calls", 1, True])
    def test_refuses_unknown_values(self, cell: Any) -> None:
        value, error = one(parse_choices(cells(cell), CHANNELS))

        assert value is None
        assert error == "unknown_value"

    def test_typed_cells_match_by_their_text(self) -> None:
        parsed = parse_choices(cells(1, 2.0, True), {"1": "one", "2": "two", "true": "yes"})

        assert parsed.values.tolist() == ["one", "two", "yes"]

    def test_missing_cells_and_the_index(self) -> None:
        parsed = parse_choices(cells(*MISSING, "拜访", index=range(8, 0, -1)), CHANNELS)

        assert parsed.values.dtype == object
        assert parsed.values.index.tolist() == list(range(8, 0, -1))
        assert parsed.values.tolist() == [None] * 7 + ["visit"]
        assert parsed.errors.isna().all()

    def test_refuses_synonyms_that_clash(self) -> None:
        with pytest.raises(ValueError, match="means two things"):
            parse_choices(cells("a"), {"Phone": "phone", "phone": "visit"})


class TestCheckRange:
    def test_flags_values_outside_the_range(self) -> None:
        errors = check_range(
            pd.Series([0, 1, 5, 10, 11, None], dtype="Int64"), minimum=1, maximum=10
        )

        assert errors.tolist() == ["below_minimum", None, None, None, "above_maximum", None]

    def test_either_bound_may_be_missing(self) -> None:
        values = pd.Series([-1.5, np.nan, 1e12], index=[5, 6, 7])

        assert check_range(values, minimum=0).tolist() == ["below_minimum", None, None]
        assert check_range(values, maximum=100).tolist() == [None, None, "above_maximum"]
        assert check_range(values).isna().all()
        assert check_range(values).index.tolist() == [5, 6, 7]


class TestCheckLength:
    def test_counts_characters_not_bytes(self) -> None:
        values = clean_text(cells("上海浦东", "上海浦东新", "abcde", None, index=list("wxyz")))

        errors = check_length(values, 4)

        assert errors.to_dict() == {"w": None, "x": "too_long", "y": "too_long", "z": None}
        assert errors.dtype == object
