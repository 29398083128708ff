"""Reason sentences: fragments filled from the evidence, in the reader's language."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnradar.warning import render
from churnradar.warning.spec import Sentence

FOLLOW_UP = Sentence(
    zh=("已 {days:.0f} 天未跟进", "（该客户通常 {usual:.0f} 天一次）"),
    en=("No follow-up for {days:.0f} days", " (usually every {usual:.0f} days)"),
)


class TestRender:
    def test_every_fragment_when_every_value_is_there(self) -> None:
        values = {"days": 46.4, "usual": 7.0}

        assert render(FOLLOW_UP, values, "zh-CN") == "已 46 天未跟进（该客户通常 7 天一次）"
        assert render(FOLLOW_UP, values, "en") == "No follow-up for 46 days (usually every 7 days)"

    @pytest.mark.parametrize("missing", [None, math.nan, np.float64("nan")])
    def test_a_fragment_naming_a_missing_value_is_left_out(self, missing: object) -> None:
        values = {"days": 46.4, "usual": missing}

        assert render(FOLLOW_UP, values, "zh-CN") == "已 46 天未跟进"
        assert render(FOLLOW_UP, values, "en") == "No follow-up for 46 days"

    def test_a_value_absent_from_the_record_is_missing_too(self) -> None:
        assert render(FOLLOW_UP, {"usual": 7}, "en") == " (usually every 7 days)"

    def test_fragments_without_placeholders_always_show(self) -> None:
        sentence = Sentence(zh=("注意：", "{x:.0f} 次"), en=("Note: ", "{x:.0f} times"))

        assert render(sentence, {"x": None}, "en") == "Note: "
        assert render(sentence, {"x": 3}, "en") == "Note: 3 times"

    def test_zero_is_a_value(self) -> None:
        assert render(FOLLOW_UP, {"days": 0.0, "usual": 0}, "en") == (
            "No follow-up for 0 days (usually every 0 days)"
        )

    @pytest.mark.parametrize(
        ("template", "value", "shown"),
        [
            ("{x:.0f}", 44.6, "45"),
            ("{x:.1f}", 2.25001, "2.3"),
            ("{x:.0%}", 0.456, "46%"),
            ("{x:.0%}", 1.3, "130%"),
            ("{x:,.0f}", 1234567.8, "1,234,568"),
            ("{x:+.0f}", 3.0, "+3"),
            ("{x:+.0f}", -3.2, "-3"),
            ("{x:+,.0f}", 12345.0, "+12,345"),
        ],
    )
    def test_number_formats(self, template: str, value: float, shown: str) -> None:
        sentence = Sentence(zh=(f"值 {template}",), en=(f"value {template}",))

        assert render(sentence, {"x": value}, "en") == f"value {shown}"
        assert render(sentence, {"x": value}, "zh-CN") == f"值 {shown}"

    @pytest.mark.parametrize(
        ("locale", "language"),
        [("zh-CN", "zh"), ("zh", "zh"), ("en", "en"), ("en-US", "en"), ("fr", "en"), ("", "en")],
    )
    def test_chinese_for_zh_english_otherwise(self, locale: str, language: str) -> None:
        sentence = Sentence(zh=("中文",), en=("English",))

        assert render(sentence, {}, locale) == {"zh": "中文", "en": "English"}[language]
