"""RowValidator.validate on hand-built chunks: typed values, references, repeats, and the
problems of rejected rows rendered in Chinese and English."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churnradar.ingest.problems import as_problems, reasons, render
from support.ingest_rows import chunk, found, table, validator

ORDER_HEADERS = ["订单号", "客户编号", "下单时间", "订单金额", "订单状态", "数量", "币种"]


def order(number: str, customer: str = "C001", **cells: Any) -> list[Any]:
    """An order row under ORDER_HEADERS."""
    row = {"date": "2025-03-01", "amount": "100", "status": None, "quantity": None, **cells}
    return [number, customer, row["date"], row["amount"], row["status"], row["quantity"], None]


class TestValidate:
    def test_reads_an_order_into_typed_values_with_defaults(self) -> None:
        rows = chunk(
            ["SO-1", "C001", "2025-03-01 09:30", "¥1,234.50", "已完成", None, None],
            ["SO-2", "C002", "2025/3/2", "2万", "已退款", "3", "USD"],
        )

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert [(name, upsert) for name, _, upsert in result.frames] == [("orders", True)]
        orders = table(result, "orders")
        assert orders["external_id"].tolist() == ["SO-1", "SO-2"]
        assert orders["ordered_at"].tolist() == [
            pd.Timestamp("2025-03-01 01:30", tz="UTC"),
            pd.Timestamp("2025-03-01 16:00", tz="UTC"),
        ]
        assert orders["amount"].tolist() == [1234.5, 20000.0]
        assert orders["status"].tolist() == ["completed", "refunded"]
        assert orders["quantity"].tolist() == [1, 3]
        assert orders["currency"].tolist() == ["CNY", "USD"]
        assert orders["customer_id__customer"].tolist() == ["C001", "C002"]
        assert orders["_row"].tolist() == [2, 3]
        assert result.problems.empty
        assert not result.rejected.any()

    def test_a_unit_in_the_header_multiplies_the_amounts(self) -> None:
        headers = ["订单号", "客户编号", "下单时间", "金额(万元)"]

        result = validator("orders", headers).validate(chunk(["SO-1", "C001", "2025-03-01", "1.5"]))

        assert table(result, "orders")["amount"].tolist() == [15000.0]

    def test_rejects_a_row_naming_an_unknown_customer(self) -> None:
        rows = chunk(order("SO-1"), order("SO-2", "C999"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(3, "customer_key", "unknown_customer")]
        assert result.problems.loc[0, "value"] == "C999"
        assert result.rejected.tolist() == [False, True]
        assert table(result, "orders")["external_id"].tolist() == ["SO-1"]

    def test_creates_unknown_customers_first_when_asked(self) -> None:
        headers = ["订单号", "客户名称", "下单日期", "金额"]
        rows = chunk(
            ["SO-1", "华联超市", "2025-03-01", "100"],
            ["SO-2", "杭州新客", "2025-03-02", "200"],
            ["SO-3", "杭州新客", "2025-03-03", "300"],
        )

        result = validator("orders", headers, create_customers=True).validate(rows)

        assert [(name, upsert) for name, _, upsert in result.frames] == [
            ("customers", False),
            ("orders", True),
        ]
        created = table(result, "customers")
        assert created[["external_id", "name"]].to_numpy().tolist() == [["杭州新客", "杭州新客"]]
        orders = table(result, "orders")
        assert orders["customer_id__customer"].tolist() == ["C001", "杭州新客", "杭州新客"]
        assert result.created == {"customers": 1}
        assert result.problems.empty

    def test_a_created_customer_is_found_by_later_chunks(self) -> None:
        headers = ["订单号", "客户名称", "下单日期", "金额"]
        rows = validator("orders", headers, create_customers=True)
        rows.validate(chunk(["SO-1", "杭州新客", "2025-03-01", "100"]))

        later = rows.validate(chunk(["SO-2", "杭州新客", "2025-03-02", "100"], first=10))

        assert [name for name, _, _ in later.frames] == ["orders"]
        assert later.created == {}
        assert table(later, "orders")["customer_id__customer"].tolist() == ["杭州新客"]

    def test_creates_a_customer_known_only_by_number_under_that_number(self) -> None:
        rows = chunk(order("SO-1", "C777"))

        result = validator("orders", ORDER_HEADERS, create_customers=True).validate(rows)

        created = table(result, "customers")
        assert created[["external_id", "name"]].to_numpy().tolist() == [["C777", "C777"]]

    def test_a_rejected_row_creates_no_customer(self) -> None:
        headers = ["订单号", "客户名称", "下单日期", "金额"]
        rows = chunk(["SO-1", "杭州新客", "2025-03-01", "-100"])

        result = validator("orders", headers, create_customers=True).validate(rows)

        assert found(result) == [(2, "amount", "negative_amount")]
        assert [name for name, _, _ in result.frames] == ["orders"]
        assert result.created == {}

    def test_rejects_an_owner_who_is_no_user_unless_asked_to_create_owners(self) -> None:
        headers = ["客户名称", "客户经理"]
        rows = chunk(["杭州新客", "王芳"], ["宁波某厂", "张伟"])

        refused = validator("customers", headers).validate(rows)
        created = validator("customers", headers, create_owners=True).validate(rows)

        assert found(refused) == [(2, "owner", "unknown_user")]
        assert [name for name, _, _ in created.frames] == ["users", "customers"]
        assert table(created, "users")["username"].tolist() == ["王芳"]
        assert table(created, "customers")["owner_id__user"].tolist() == ["王芳", "zhangwei"]
        assert created.created == {"users": 1}

    def test_a_row_repeated_exactly_is_a_duplicate_row_of_the_first(self) -> None:
        rows = chunk(order("SO-1"), order("SO-2"), order("SO-1"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(4, "external_id", "duplicate_row")]
        assert result.problems.loc[0, "params"] == {"first": 2}
        assert table(result, "orders")["external_id"].tolist() == ["SO-1", "SO-2"]

    def test_a_number_repeated_with_other_values_is_a_duplicate_key(self) -> None:
        rows = chunk(order("SO-1"), order("SO-1", amount="999"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(3, "external_id", "duplicate_key")]
        assert result.problems.loc[0, "params"] == {"first": 2}

    def test_finds_repeats_of_rows_in_earlier_chunks(self) -> None:
        rows = validator("orders", ORDER_HEADERS)
        rows.validate(chunk(order("SO-1"), order("SO-2")))

        later = rows.validate(chunk(order("SO-2"), order("SO-1", amount="5"), first=100))

        assert found(later) == [
            (100, "external_id", "duplicate_row"),
            (101, "external_id", "duplicate_key"),
        ]
        assert [params["first"] for params in later.problems["params"]] == [3, 2]

    def test_a_rejected_row_is_not_the_first_of_its_number(self) -> None:
        rows = chunk(order("SO-1", "C999"), order("SO-1"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(2, "customer_key", "unknown_customer")]
        assert table(result, "orders")["_row"].tolist() == [3]

    def test_rejects_a_date_after_the_import_clock_beyond_a_day(self) -> None:
        rows = chunk(order("SO-1", date="2025-07-01"), order("SO-2", date="2025-07-03"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(3, "ordered_at", "future_date")]

    def test_rejects_a_negative_amount_as_such(self) -> None:
        rows = chunk(order("SO-1", amount="-5"), order("SO-2", amount="(120.00)"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [(2, "amount", "negative_amount"), (3, "amount", "negative_amount")]

    def test_rejects_empty_required_cells(self) -> None:
        rows = chunk(
            order("SO-1", amount=None), [None, None, "2025-03-01", "100", None, None, None]
        )

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert found(result) == [
            (2, "amount", "required"),
            (3, "external_id", "required"),
            (3, "customer_key", "required_one_of"),
        ]

    def test_reports_every_problem_of_a_row_and_rejects_it_once(self) -> None:
        rows = chunk(order("SO-1", "C999", date="2025-13-01", amount="abc", status="在路上"))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert sorted(code for _, _, code in found(result)) == [
            "bad_amount",
            "bad_date",
            "unknown_customer",
            "unknown_value",
        ]
        assert result.rejected.tolist() == [True]
        assert table(result, "orders").empty

    def test_rejects_a_reference_longer_than_a_key(self) -> None:
        rows = chunk(order("SO-1", "C" * 65))

        result = validator("orders", ORDER_HEADERS).validate(rows)

        assert ("customer_key", "too_long") in [(field, code) for _, field, code in found(result)]
        too_long = result.problems[result.problems["code"] == "too_long"]
        assert too_long["params"].tolist() == [{"limit": 64, "length": 65}]


class TestRender:
    def test_renders_a_problem_in_its_column_in_chinese_and_english(self) -> None:
        problem = {
            "code": "duplicate_key",
            "header": "订单号",
            "field": "external_id",
            "value": "SO-1",
            "params": {"first": 2},
        }

        assert render(problem, "zh-CN") == (
            "「订单号」列：编号「SO-1」与第 2 行重复，但内容不同：请确认哪一行正确"
        )
        assert render(problem, "en") == (
            "column '订单号': number 'SO-1' is also on row 2, with different values: "
            "keep the right one"
        )

    def test_an_empty_value_renders_as_nothing(self) -> None:
        problem: dict[str, Any] = {
            "code": "required",
            "header": "订单金额",
            "field": "amount",
            "value": None,
            "params": {},
        }

        assert render(problem, "zh-CN") == "「订单金额」列：必填，不能为空"


class TestReasons:
    def test_gives_each_rejected_row_its_reasons_with_column_and_value(self) -> None:
        rows = chunk(order("SO-1"), order("SO-2", "C999"), order("SO-3", "C998", amount="-5"))
        result = validator("orders", ORDER_HEADERS).validate(rows)

        chinese = reasons(result.problems, "zh-CN")
        english = reasons(result.problems, "en")

        assert chinese.index.tolist() == [1, 2]
        assert chinese[1].startswith("「客户编号」列：找不到客户「C999」")
        assert chinese[2].count("；") == 1
        assert "「订单金额」列：金额「-5」为负数" in chinese[2]
        assert english[1].startswith("column '客户编号': no customer 'C999'")
        assert "column '订单金额': amount '-5' is negative" in english[2]
        assert english[2].count("; column ") == 1

    def test_gives_nothing_without_problems(self) -> None:
        result = validator("orders", ORDER_HEADERS).validate(chunk(order("SO-1")))

        assert reasons(result.problems, "zh-CN").empty

    def test_a_repeat_in_a_file_without_numbers_names_a_column_and_a_value(self) -> None:
        rows = chunk(["杭州新客", "杭州"], ["杭州新客", "宁波"])
        result = validator("customers", ["客户名称", "城市"]).validate(rows)

        [text] = reasons(result.problems, "zh-CN")

        assert "「」" not in text


class TestAsProblems:
    def test_lists_the_problems_with_the_row_the_user_sees(self) -> None:
        rows = chunk(order("SO-1"), order("SO-2", "C999"), first=7)
        result = validator("orders", ORDER_HEADERS).validate(rows)

        [problem] = as_problems(result.problems)

        assert (problem.code, problem.row, problem.column) == ("unknown_customer", 8, "客户编号")
        assert problem.params == {"value": "C999", "field": "customer_key"}
