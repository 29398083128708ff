"""Header mapping: normalised names, units in brackets, two-row headers, the mapping file."""

from __future__ import annotations

from pathlib import Path

import pytest

from churnradar.errors import InvalidInput
from churnradar.ingest.headers import (
    HeaderIndex,
    HeaderMapping,
    choose_columns,
    header_multiplier,
    normalise_header,
    read_mapping_file,
)
from churnradar.ingest.kinds import KINDS

ORDERS = KINDS["orders"]
HEADERS = ["订单号", "客户名称", "下单日期", "金额"]


def fields_of(mapping: HeaderMapping) -> dict[str, str]:
    """Column label -> field name, for the columns the mapping reads."""
    return {choice.header: choice.field.name for choice in mapping.columns}


def refusal(headers: list[str], **options: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        choose_columns(ORDERS, headers, **options)  # type: ignore[arg-type]
    return raised.value


class TestNormaliseHeader:
    @pytest.mark.parametrize(
        ("written", "normal"),
        [
            ("ＡＭＯＵＮＴ", "amount"),  # full-width letters
            ("客户ＩＤ", "客户id"),
            ("Order  Date", "orderdate"),
            ("customer_id", "customerid"),
            ("Customer-Name", "customername"),
            ("　客户名称：", "客户名称"),  # ideographic space, full-width colon
            ("订单金额（元）", "订单金额"),  # a unit in full-width brackets
            ("金额(万元)", "金额"),
            ("Amount (CNY)", "amount"),
            ("金额【万】", "金额"),
        ],
    )
    def test_folds_width_case_spaces_and_a_bracketed_unit(self, written: str, normal: str) -> None:
        assert normalise_header(written) == normal

    def test_keeps_brackets_that_are_not_a_suffix(self) -> None:
        assert normalise_header("(备注)说明") == "(备注)说明"


class TestHeaderMultiplier:
    @pytest.mark.parametrize(
        ("header", "factor"),
        [
            ("金额(万元)", 10_000),
            ("合同金额（万）", 10_000),
            ("金额（单位：万元）", 10_000),
            ("金额(RMB万元)", 10_000),
            ("Amount (w)", 10_000),
            ("销售额(亿元)", 100_000_000),
            ("金额(千元)", 1_000),
            ("Amount (K)", 1_000),
            ("订单金额（元）", 1),
            ("Amount (CNY)", 1),
            ("金额", 1),
        ],
    )
    def test_reads_the_unit_in_brackets(self, header: str, factor: float) -> None:
        assert header_multiplier(header) == factor

    def test_reads_ten_thousand_yuan_written_with_renminbi(self) -> None:
        assert header_multiplier("合同金额（人民币万元）") == 10_000


class TestHeaderIndexScore:
    def test_counts_distinct_fields_not_cells(self) -> None:
        index = HeaderIndex(ORDERS)

        # 订单号 and 单号 both name the order number; 说明 names nothing
        assert index.score(["订单号", "单号", "客户名称", "说明", "Amount"]) == 3

    def test_scores_a_title_row_zero(self) -> None:
        assert HeaderIndex(ORDERS).score(["2025年订单明细", "", ""]) == 0


class TestChooseColumns:
    @pytest.mark.parametrize(
        ("kind", "headers", "expected"),
        [
            (
                "customers",
                ["客户编号", "客户名称", "客户类型", "所属行业", "客户经理", "创建日期"],
                ["external_id", "name", "kind", "industry", "owner", "first_seen"],
            ),
            (
                "customers",
                ["Customer ID", "Company Name", "City", "Account Manager", "Status"],
                ["external_id", "name", "city", "owner", "status"],
            ),
            (
                "contacts",
                ["客户名称", "联系人", "职务", "手机号码", "邮箱", "是否关键联系人"],
                ["customer_name", "name", "title", "phone", "email", "is_key"],
            ),
            (
                "orders",
                ["订单编号", "客户编号", "下单时间", "订单金额（元）", "商品", "数量", "订单状态"],
                [
                    "external_id",
                    "customer_key",
                    "ordered_at",
                    "amount",
                    "product_line",
                    "quantity",
                    "status",
                ],
            ),
            (
                "orders",
                ["Order No", "Customer ID", "Order Date", "Amount (CNY)", "Qty"],
                ["external_id", "customer_key", "ordered_at", "amount", "quantity"],
            ),
            (
                "subscriptions",
                ["合同编号", "客户名称", "套餐", "合同金额", "签约日期", "到期日期", "合同状态"],
                [
                    "external_id",
                    "customer_name",
                    "plan",
                    "contract_value",
                    "started_at",
                    "ends_at",
                    "status",
                ],
            ),
            (
                "subscriptions",
                ["Contract ID", "Account Name", "MRR", "Start Date", "End Date"],
                ["external_id", "customer_name", "mrr", "started_at", "ends_at"],
            ),
            (
                "interactions",
                ["客户名称", "跟进日期", "跟进方式", "跟进人", "跟进内容", "下一步计划"],
                ["customer_name", "occurred_at", "channel", "user", "summary", "next_step"],
            ),
            (
                "tickets",
                ["工单编号", "客户名称", "创建时间", "问题类型", "优先级", "解决时间"],
                [
                    "external_id",
                    "customer_name",
                    "opened_at",
                    "category",
                    "severity",
                    "resolved_at",
                ],
            ),
            (
                "complaints",
                ["投诉编号", "客户名称", "投诉日期", "投诉内容", "处理完成时间"],
                ["external_id", "customer_name", "opened_at", "subject", "resolved_at"],
            ),
            (
                "surveys",
                ["客户名称", "调查日期", "NPS得分", "满意度", "意见建议"],
                ["customer_name", "answered_at", "nps", "csat", "comment"],
            ),
            (
                "surveys",
                ["Customer", "Submitted At", "Likelihood to recommend", "CSAT", "Comments"],
                ["customer_name", "answered_at", "nps", "csat", "comment"],
            ),
            (
                "churn_events",
                ["客户编号", "流失日期", "流失类型", "流失原因", "详细原因"],
                ["customer_key", "occurred_at", "type", "reason", "note"],
            ),
        ],
    )
    def test_recognises_the_headers_of_each_kind(
        self, kind: str, headers: list[str], expected: list[str]
    ) -> None:
        mapping = choose_columns(KINDS[kind], headers)

        assert fields_of(mapping) == dict(zip(headers, expected, strict=True))
        assert mapping.ignored == ()

    def test_a_unit_in_the_header_sets_the_column_multiplier(self) -> None:
        mapping = choose_columns(
            KINDS["subscriptions"], ["合同编号", "客户", "开始日期", "合同金额(万元)"]
        )

        choice = mapping.get("contract_value")
        assert choice is not None
        assert (choice.header, choice.multiplier) == ("合同金额(万元)", 10_000)

    def test_joins_a_two_row_header_with_its_parent(self) -> None:
        mapping = choose_columns(
            ORDERS,
            ["订单号", "编号", "名称", "日期", "金额"],
            parents=["订单号", "客户", "客户", "订单", "订单"],
        )

        assert fields_of(mapping) == {
            "订单号": "external_id",
            "客户编号": "customer_key",
            "客户名称": "customer_name",
            "订单日期": "ordered_at",
            "订单金额": "amount",
        }

    def test_reads_a_header_merged_down_both_rows_from_its_parent(self) -> None:
        mapping = choose_columns(
            ORDERS, ["订单号", "", "下单日期", "金额"], parents=["", "客户名称", "", ""]
        )

        choice = mapping.get("customer_name")
        assert choice is not None
        assert (choice.position, choice.header) == (1, "客户名称")

    def test_prefers_the_joined_label_to_the_lower_cell_alone(self) -> None:
        mapping = choose_columns(
            KINDS["tickets"],
            ["工单号", "日期", "编号", "名称"],
            parents=["工单号", "投诉", "客户", "客户"],
        )

        assert fields_of(mapping).get("客户编号") == "customer_key"

    def test_a_column_named_twice_is_read_once(self) -> None:
        mapping = choose_columns(ORDERS, ["订单号", "客户名称", "下单日期", "金额", "订单金额"])

        assert fields_of(mapping)["金额"] == "amount"
        assert mapping.ignored == ("订单金额",)

    def test_leaves_unrecognised_columns_out(self) -> None:
        mapping = choose_columns(ORDERS, ["订单号", "客户名称", "下单日期", "金额", "开票备注"])

        assert "开票备注" not in fields_of(mapping)
        assert mapping.ignored == ("开票备注",)

    def test_override_by_field_code_and_by_recognised_header(self) -> None:
        mapping = choose_columns(
            ORDERS,
            ["单据", "客户代码X", "下单日期", "金额"],
            overrides={"单据": "external_id", "客户代码X": "客户编号"},
        )

        assert fields_of(mapping) == {
            "单据": "external_id",
            "客户代码X": "customer_key",
            "下单日期": "ordered_at",
            "金额": "amount",
        }
        assert [choice.explicit for choice in mapping.columns] == [True, True, False, False]

    def test_override_to_null_ignores_a_column(self) -> None:
        headers = ["订单号", "客户名称", "日期", "下单日期", "金额"]

        automatic = choose_columns(ORDERS, headers)
        overridden = choose_columns(ORDERS, headers, overrides={"日期": None})

        assert automatic.get("ordered_at").header == "日期"  # type: ignore[union-attr]
        assert overridden.get("ordered_at").header == "下单日期"  # type: ignore[union-attr]
        assert "日期" in overridden.ignored

    def test_override_may_name_the_joined_label_of_a_two_row_header(self) -> None:
        mapping = choose_columns(
            ORDERS,
            ["订单号", "代码", "日期", "金额"],
            parents=["订单号", "客户", "订单", "订单"],
            overrides={"客户代码": "customer_key"},
        )

        assert fields_of(mapping)["客户代码"] == "customer_key"

    def test_override_wins_over_an_earlier_recognised_column(self) -> None:
        mapping = choose_columns(
            ORDERS,
            ["订单号", "客户名称", "下单日期", "订单金额", "实付金额"],
            overrides={"实付金额": "amount"},
        )

        assert fields_of(mapping).get("实付金额") == "amount"

    def test_refuses_a_mapping_of_a_header_the_file_lacks(self) -> None:
        error = refusal(
            ["订单号", "客户名称", "下单日期", "金额"], overrides={"开票金额": "amount"}
        )

        assert error.key == "ingest.mapping.invalid"
        [problem] = error.problems
        assert (problem.code, problem.column) == ("mapping_unknown_header", "开票金额")
        assert problem.params["headers"] == "订单号、客户名称、下单日期、金额"

    def test_refuses_a_mapping_to_an_unknown_field(self) -> None:
        error = refusal(
            ["订单号", "客户名称", "下单日期", "金额"], overrides={"金额": "revenue_net"}
        )

        [problem] = error.problems
        assert (problem.code, problem.column) == ("mapping_unknown_field", "金额")
        assert problem.params["field"] == "revenue_net"
        assert "「金额」对应到不存在的字段「revenue_net」" in error.render("zh-CN")
        assert "column '金额' to an unknown field 'revenue_net'" in error.render("en")

    def test_refuses_a_file_without_a_required_column(self) -> None:
        error = refusal(["订单号", "客户名称", "下单日期"])

        assert error.key == "ingest.mapping.missing_columns"
        [problem] = error.problems
        assert (problem.code, problem.column) == ("missing_column", "订单金额")
        assert problem.params == {"field": "amount", "headers": "订单号、客户名称、下单日期"}
        assert error.params["missing"] == "订单金额 (amount)"
        assert "订单金额 (amount)" in error.render("zh-CN")

    def test_refuses_a_file_without_any_column_of_a_one_of_group(self) -> None:
        error = refusal(["订单号", "下单日期", "金额"])

        [problem] = error.problems
        assert problem.code == "missing_one_of"
        assert problem.params["fields"] == "客户编号 / 客户名称"
        assert error.params["missing"] == "客户编号 (customer_key) / 客户名称 (customer_name)"


class TestReadMappingFile:
    def test_reads_json_with_null_for_an_ignored_column(self, tmp_path: Path) -> None:
        path = tmp_path / "mapping.json"
        path.write_text('{"客户代码": "customer_key", "备注": null}', encoding="utf-8")

        assert read_mapping_file(path) == {"客户代码": "customer_key", "备注": None}

    def test_reads_json_saved_with_a_byte_order_mark(self, tmp_path: Path) -> None:
        path = tmp_path / "mapping.json"
        path.write_text('{"单据": "订单号"}', encoding="utf-8-sig")

        assert read_mapping_file(path) == {"单据": "订单号"}

    def test_reads_toml_where_an_empty_string_ignores_a_column(self, tmp_path: Path) -> None:
        path = tmp_path / "mapping.toml"
        path.write_text('"客户代码" = "customer_key"\n"备注" = ""\n', encoding="utf-8")

        overrides = read_mapping_file(path)
        mapping = choose_columns(
            ORDERS, ["订单号", "客户代码", "下单日期", "金额", "备注"], overrides=overrides
        )

        assert overrides == {"客户代码": "customer_key", "备注": ""}
        assert "备注" in mapping.ignored

    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("mapping.json", '{"客户代码": "customer_key",'),  # cut short
            ("mapping.json", '["customer_key"]'),  # not an object
            ("mapping.json", '{"数量": 3}'),  # not a field name
            ("mapping.toml", '[客户代码]\nfield = "customer_key"\n'),  # a table, not a name
            ("mapping.toml", "客户代码 = customer_key\n"),  # unquoted
        ],
    )
    def test_refuses_a_file_that_is_not_header_to_field(
        self, tmp_path: Path, name: str, text: str
    ) -> None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")

        with pytest.raises(InvalidInput) as raised:
            read_mapping_file(path)

        assert raised.value.key == "ingest.mapping.unreadable"
        assert raised.value.params["file"] == str(path)

    def test_refuses_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput) as raised:
            read_mapping_file(tmp_path / "absent.json")

        assert raised.value.key == "ingest.file.not_found"
