"""The cross-cell rules of each kind of file, run as an import runs them: through
RowValidator.validate on hand-built chunks."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import String

from churnradar.ingest.shaping import FOLLOW_UP_SUMMARY
from churnradar.store.tables import metadata
from support.ingest_rows import chunk, found, table, validated, validator


def column_length(table_name: str, column: str) -> int:
    kind = metadata.tables[table_name].c[column].type
    assert isinstance(kind, String)
    assert kind.length is not None
    return kind.length


class TestCustomers:
    HEADERS = (
        *("客户编号", "客户名称", "客户经理", "关键联系人", "联系电话", "职务"),
        *("最近跟进日期", "跟进方式"),
    )

    def row(self, key: str = "C010", **cells: Any) -> list[Any]:
        """A customer row under HEADERS; ``cells`` replace the contact's and follow-up's."""
        values = {"key": key, "name": "杭州新客", "owner": "张伟", "contact": "王经理"}
        values |= {"phone": "13800000000", "title": "采购总监"}
        values |= {"follow_up": "2025-05-06 14:30", "channel": "微信"}
        return list((values | cells).values())

    def test_the_key_contact_becomes_a_contact_of_the_customer(self) -> None:
        result = validated("customers", self.HEADERS, self.row())

        assert [name for name, _, _ in result.frames] == ["customers", "contacts", "interactions"]
        [contact] = table(result, "contacts").to_dict("records")
        assert contact["external_id"] == "C010:key-contact"
        assert contact["customer_id__customer"] == "C010"
        assert (contact["name"], contact["is_key"]) == ("王经理", True)
        assert (contact["phone"], contact["title"]) == ("13800000000", "采购总监")
        assert contact["_row"] == 2

    def test_the_last_follow_up_becomes_an_interaction_by_the_owner(self) -> None:
        result = validated("customers", self.HEADERS, self.row())

        [follow_up] = table(result, "interactions").to_dict("records")
        # the key carries the follow-up's instant in UTC: 14:30 in Shanghai is 06:30
        assert follow_up["external_id"] == "C010:follow-up:202505060630"
        assert follow_up["occurred_at"] == pd.Timestamp("2025-05-06 06:30", tz="UTC")
        assert (follow_up["channel"], follow_up["direction"]) == ("wechat", "outbound")
        assert follow_up["summary"] == FOLLOW_UP_SUMMARY
        assert follow_up["user_id__user"] == "zhangwei"
        assert follow_up["customer_id__customer"] == "C010"

    def test_a_follow_up_without_a_channel_was_a_phone_call(self) -> None:
        headers = ["客户编号", "客户名称", "最近跟进日期"]

        result = validated("customers", headers, ["C010", "杭州新客", "2025-05-06"])

        assert table(result, "interactions")["channel"].tolist() == ["phone"]

    def test_rows_without_a_contact_or_follow_up_imply_none(self) -> None:
        result = validated(
            "customers",
            self.HEADERS,
            self.row("C010"),
            self.row("C011", contact=None, follow_up=None),
        )

        assert table(result, "contacts")["external_id"].tolist() == ["C010:key-contact"]
        assert table(result, "interactions")["_row"].tolist() == [2]

    def test_a_rejected_customer_implies_no_contact(self) -> None:
        result = validated("customers", self.HEADERS, self.row(follow_up="昨天"))

        assert found(result) == [(2, "last_follow_up", "bad_date")]
        assert table(result, "contacts").empty
        assert table(result, "customers").empty

    def test_fills_kind_business_model_and_status(self) -> None:
        result = validated("customers", ["客户编号", "客户名称"], ["C010", "杭州新客"])

        customer = table(result, "customers").iloc[0]
        assert (customer["kind"], customer["business_model"], customer["status"]) == (
            "company",
            "noncontract",
            "active",
        )

    def test_without_a_number_a_customer_is_keyed_by_its_name(self) -> None:
        long_name = "杭州" + "某" * 70 + "有限公司"

        result = validated(
            "customers",
            ["客户名称", "城市"],
            ["华联超市", "上海"],
            ["杭州新客", "杭州"],
            [long_name, "杭州"],
        )

        known, new, digested = table(result, "customers")["external_id"]
        assert (known, new) == ("C001", "杭州新客")  # the stored customer of that name
        assert digested.startswith("name:")
        assert len(digested) == len("name:") + 24

    def test_a_churn_reason_needs_a_churn_date(self) -> None:
        headers = ["客户编号", "客户名称", "流失日期", "流失原因"]

        result = validated(
            "customers",
            headers,
            ["C010", "杭州新客", None, "太贵"],
            ["C011", "宁波", "2025-04-01", "太贵"],
        )

        assert found(result) == [(2, "churn_reason", "churn_needs_date")]
        assert table(result, "customers")["churn_reason"].tolist() == ["price"]

    def test_implied_rows_get_ids_that_fit_the_column(self) -> None:
        result = validated("customers", self.HEADERS, self.row("K" * 60))

        limit = column_length("contacts", "external_id")
        for name in ("contacts", "interactions"):
            frame = table(result, name)
            assert (frame["external_id"].str.len() <= limit).all(), name

    def test_a_key_contact_phone_longer_than_the_contacts_column_is_rejected(self) -> None:
        phones = "13800000000 / 13900000000 / 010-12345678"
        assert len(phones) > column_length("contacts", "phone")

        result = validated("customers", self.HEADERS, self.row(phone=phones))

        assert found(result) == [(2, "key_contact_phone", "too_long")]


class TestContacts:
    def test_an_end_before_the_start_is_refused_and_is_key_defaults_to_false(self) -> None:
        headers = ["客户编号", "联系人", "入职日期", "离职日期", "是否关键联系人"]

        result = validated(
            "contacts",
            headers,
            ["C001", "王经理", "2024-01-01", "2023-01-01", None],
            ["C001", "李工", "2024-01-01", None, None],
            ["C001", "赵总", "2024-01-01", None, "是"],
        )

        assert found(result) == [(2, "active_to", "ends_before_start")]
        assert result.problems.loc[0, "params"] == {"other": "2024-01-01"}
        assert table(result, "contacts")["is_key"].tolist() == [False, True]


class TestSubscriptions:
    HEADERS = (
        *("合同编号", "客户编号", "开始日期", "到期日期", "合同金额", "年费", "月费"),
        *("合同状态", "解约日期", "原合同编号"),
    )

    def row(self, key: str, **cells: Any) -> list[Any]:
        """A contract of C001 under HEADERS, starting 2024-01-01; ``cells`` fill the rest."""
        values = {"start": "2024-01-01", "end": None, "value": None, "annual": None, "mrr": None}
        values |= {"status": None, "cancelled": None, "renews": None, **cells}
        return [key, "C001", *values.values()]

    def test_a_contract_value_over_its_term_gives_the_monthly_revenue(self) -> None:
        result = validated(
            "subscriptions",
            self.HEADERS,
            self.row("S-1", end="2025-01-01", value="120000"),
            self.row("S-2", end="2024-07-01", value="¥60,000"),
        )

        assert table(result, "subscriptions")["mrr"].tolist() == [10000.0, 10000.0]

    def test_an_annual_value_is_twelve_months_of_revenue(self) -> None:
        result = validated("subscriptions", self.HEADERS, self.row("S-1", annual="60000"))

        assert table(result, "subscriptions")["mrr"].tolist() == [5000.0]

    def test_a_monthly_fee_written_out_wins(self) -> None:
        rows = self.row("S-1", end="2025-01-01", value="120000", mrr="9000")

        result = validated("subscriptions", self.HEADERS, rows)

        assert table(result, "subscriptions")["mrr"].tolist() == [9000.0]

    def test_a_contract_value_in_ten_thousands(self) -> None:
        headers = ["合同编号", "客户编号", "开始日期", "到期日期", "合同金额(万元)"]

        result = validated(
            "subscriptions", headers, ["S-1", "C001", "2024-01-01", "2025-01-01", "12"]
        )

        assert table(result, "subscriptions")["mrr"].tolist() == [10000.0]

    def test_a_contract_value_without_an_end_date_is_refused(self) -> None:
        result = validated("subscriptions", self.HEADERS, self.row("S-1", value="50000"))

        assert found(result) == [(2, "contract_value", "contract_value_needs_term")]

    def test_derives_the_status_from_the_dates(self) -> None:
        result = validated(
            "subscriptions",
            self.HEADERS,
            self.row("S-1", end="2025-03-01", mrr="800", cancelled="2025-02-01"),
            self.row("S-2", end="2025-03-01", mrr="800"),
            self.row("S-3", end="2026-01-01", mrr="800"),
            self.row("S-4", mrr="800"),
            self.row("S-5", end="2025-03-01", mrr="800", status="已续约"),
        )

        assert table(result, "subscriptions")["status"].tolist() == [
            "cancelled",
            "expired",
            "active",
            "active",
            "renewed",
        ]

    def test_a_term_may_start_and_end_after_the_import_clock(self) -> None:
        rows = self.row("S-1", start="2025-08-01", end="2026-08-01", mrr="800")

        result = validated("subscriptions", self.HEADERS, rows)

        assert result.problems.empty

    def test_an_end_before_the_start_is_refused(self) -> None:
        rows = self.row("S-1", end="2023-12-31", mrr="800")

        result = validated("subscriptions", self.HEADERS, rows)

        assert found(result) == [(2, "ends_at", "ends_before_start")]

    def test_a_renewal_names_a_stored_contract_or_one_of_this_file(self) -> None:
        result = validated(
            "subscriptions",
            self.HEADERS,
            self.row("S-1", mrr="800", renews="S-2023-01"),
            self.row("S-2", mrr="800", renews="S-1"),
            self.row("S-3", mrr="800", renews="S-1999"),
        )

        assert found(result) == [(4, "renewed_from", "unknown_contract")]
        renewals = table(result, "subscriptions")["renewed_from__subscription"]
        assert renewals.tolist() == ["S-2023-01", "S-1"]

    def test_fills_the_currency_and_plan(self) -> None:
        result = validated("subscriptions", self.HEADERS, self.row("S-1", mrr="800"))

        subscription = table(result, "subscriptions").iloc[0]
        assert (subscription["currency"], subscription["plan"]) == ("CNY", "standard")


class TestTickets:
    HEADERS = ("工单号", "客户名称", "创建时间", "首次响应时间", "解决时间", "严重程度")

    def test_a_response_or_resolution_before_the_opening_is_refused(self) -> None:
        result = validated(
            "tickets",
            self.HEADERS,
            ["T-1", "华联超市", "2025-03-05 10:00", None, "2025-03-04 10:00", None],
            ["T-2", "华联超市", "2025-03-05 10:00", "2025-03-05 09:00", None, None],
            ["T-3", "华联超市", "2025-03-05 10:00", "2025-03-05 10:30", "2025-03-06", None],
        )

        assert found(result) == [
            (2, "resolved_at", "before_opened"),
            (3, "first_response_at", "before_opened"),
        ]
        assert result.problems.loc[0, "params"] == {"other": "2025-03-05 10:00"}

    def test_a_ticket_is_not_a_complaint_unless_it_says_so(self) -> None:
        result = validated(
            "tickets",
            self.HEADERS,
            ["T-1", "华联超市", "2025-03-05", None, None, None],
            ["T-2", "华联超市", "2025-03-05", None, None, "紧急"],
        )

        tickets = table(result, "tickets")
        assert tickets["is_complaint"].tolist() == [False, False]
        assert tickets["category"].tolist() == ["other", "other"]
        assert tickets["severity"].tolist() == ["medium", "critical"]

    def test_a_complaint_log_holds_complaints_unless_a_column_says_otherwise(self) -> None:
        headers = ["客户名称", "投诉时间", "投诉内容", "是否投诉"]

        result = validated(
            "complaints",
            headers,
            ["华联超市", "2025-03-01", "送货太慢", None],
            ["华联超市", "2025-03-02", "咨询发票", "否"],
        )

        complaints = table(result, "tickets")
        assert complaints["is_complaint"].tolist() == [True, False]
        assert complaints["category"].tolist() == ["complaint", "complaint"]


class TestSurveys:
    HEADERS = ("问卷编号", "客户名称", "调查日期", "NPS", "满意度", "意见")

    def test_an_nps_and_a_satisfaction_answer_make_two_surveys(self) -> None:
        result = validated(
            "surveys", self.HEADERS, ["Q-1", "华联超市", "2025-03-01", "9", "非常满意", "很好"]
        )

        assert [name for name, _, _ in result.frames] == ["surveys", "surveys"]
        nps, csat = (frame.to_dict("records") for _, frame, _ in result.frames)
        [nps_row], [csat_row] = nps, csat
        assert (nps_row["external_id"], nps_row["kind"], nps_row["score"]) == ("Q-1", "nps", 9)
        assert (csat_row["external_id"], csat_row["kind"], csat_row["score"]) == (
            "Q-1:csat",
            "csat",
            5,
        )
        assert csat_row["customer_id__customer"] == nps_row["customer_id__customer"] == "C001"
        assert csat_row["answered_at"] == nps_row["answered_at"]
        assert csat_row["comment"] == "很好"

    def test_a_single_answer_makes_one_survey_of_its_kind(self) -> None:
        result = validated(
            "surveys", self.HEADERS, ["Q-1", "华联超市", "2025-03-01", None, "3", None]
        )

        main, implied = (frame for _, frame, _ in result.frames)
        assert main[["kind", "score"]].to_numpy().tolist() == [["csat", 3]]
        assert implied.empty

    def test_a_score_needs_its_kind(self) -> None:
        headers = ["客户名称", "调查日期", "得分", "调查类型"]

        result = validated(
            "surveys",
            headers,
            ["华联超市", "2025-03-01", "8", None],
            ["华联超市", "2025-03-01", "8", "NPS"],
            ["华联超市", "2025-03-01", "8", "满意度"],
        )

        assert found(result) == [
            (2, "score", "score_needs_kind"),
            (4, "score", "score_out_of_range"),
        ]
        assert table(result, "surveys")[["kind", "score"]].to_numpy().tolist() == [["nps", 8]]

    def test_a_row_without_any_score_is_refused(self) -> None:
        result = validated(
            "surveys", self.HEADERS, ["Q-1", "华联超市", "2025-03-01", None, None, "无"]
        )

        assert "no_score" in [code for _, _, code in found(result)]
        assert result.rejected.tolist() == [True]


class TestInteractions:
    HEADERS = ("客户名称", "跟进时间", "跟进方式", "跟进人", "跟进内容")
    ROWS = (
        ["华联超市", "2025-03-01 10:00", "反馈", "张伟", "抱怨发货慢"],
        ["华联超市", "2025-03-01 10:00", "登录", None, None],
        ["北京新源科技", "2025-03-02", "电话", "zhangwei", "谈续约"],
    )

    def test_the_direction_follows_the_channel(self) -> None:
        result = validated("interactions", self.HEADERS, *self.ROWS)

        interactions = table(result, "interactions")
        assert interactions["channel"].tolist() == ["feedback", "app_login", "phone"]
        assert interactions["direction"].tolist() == ["inbound", "system", "outbound"]
        assert interactions["user_id__user"].fillna("").tolist() == ["zhangwei", "", "zhangwei"]

    def test_a_direction_written_out_wins(self) -> None:
        headers = ["客户名称", "跟进时间", "跟进方式", "方向"]

        result = validated("interactions", headers, ["华联超市", "2025-03-01", "电话", "呼入"])

        assert table(result, "interactions")["direction"].tolist() == ["inbound"]

    def test_rows_without_a_number_get_a_stable_key_of_their_content(self) -> None:
        first = validated("interactions", self.HEADERS, *self.ROWS)
        again = validator("interactions", self.HEADERS).validate(chunk(*self.ROWS[::-1], first=40))

        keys = table(first, "interactions")["external_id"].tolist()
        assert all(key.startswith("auto:") for key in keys)
        assert len(set(keys)) == 3
        assert table(again, "interactions")["external_id"].tolist() == keys[::-1]

    def test_the_key_changes_with_the_content(self) -> None:
        changed = [["华联超市", "2025-03-01 10:00", "反馈", "张伟", "抱怨发货很慢"]]

        first = validated("interactions", self.HEADERS, self.ROWS[0])
        other = validated("interactions", self.HEADERS, *changed)

        assert (
            table(first, "interactions")["external_id"].tolist()
            != table(other, "interactions")["external_id"].tolist()
        )


class TestChurnEvents:
    HEADERS = ("客户名称", "流失日期", "流失原因", "流失类型")

    def test_a_reason_in_words_is_classified_and_kept_as_the_note(self) -> None:
        result = validated(
            "churn_events", self.HEADERS, ["华联超市", "2025-03-01", "嫌价格太贵", None]
        )

        event = table(result, "churn_events").iloc[0]
        assert (event["reason"], event["note"]) == ("price", "嫌价格太贵")

    def test_a_note_column_keeps_its_own_text(self) -> None:
        headers = ["客户名称", "流失日期", "流失原因", "备注"]

        result = validated(
            "churn_events", headers, ["华联超市", "2025-03-01", "转用竞品", "老板换人"]
        )

        event = table(result, "churn_events").iloc[0]
        assert (event["reason"], event["note"]) == ("competition", "老板换人")

    def test_fills_the_type_reason_and_source(self) -> None:
        result = validated(
            "churn_events",
            self.HEADERS,
            ["华联超市", "2025-03-01", None, None],
            ["北京新源科技", "2025-03-01", "欠款未结", "被动"],
        )

        events = table(result, "churn_events")
        assert events["type"].tolist() == ["active", "passive"]
        assert events["reason"].tolist() == ["unknown", "payment"]
        assert events["source"].tolist() == ["reported", "reported"]
