"""The kinds of import file as data: unambiguous headers, labels and problem messages in both
catalogues."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import churnradar.ingest
from churnradar.i18n import SUPPORTED_LOCALES, catalogue
from churnradar.ingest.headers import normalise_header
from churnradar.ingest.kinds import KIND_ALIASES, KINDS
from churnradar.ingest.problems import render
from churnradar.ingest.values import parse_choices

INGEST = Path(churnradar.ingest.__file__).parent
CODE = re.compile(r"^[a-z]+(?:_[a-z]+)*$")


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def _argument(node: ast.Call, position: int, keyword: str) -> ast.AST | None:
    if len(node.args) > position:
        return node.args[position]
    return next((k.value for k in node.keywords if k.arg == keyword), None)


def problem_codes(*modules: str) -> set[str]:
    """The string literals the ingest modules pass as problem codes: to ``flagged``,
    ``Problem``, ``_not_before``, ``KeyDirectory.resolve``, ``_errors`` pairs, the codes a
    ``.replace`` swaps, and codes stored into a column of codes (``errors[mask] = "..."``)."""
    found: set[str | None] = set()
    for module in modules:
        for node in ast.walk(ast.parse((INGEST / module).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = _called(node)
                if called == "flagged":
                    found.add(_text(_argument(node, 1, "code")))
                elif called == "Problem":
                    found.add(_text(_argument(node, 0, "code")))
                elif called == "_not_before":
                    found.add(_text(_argument(node, 3, "code")))
                elif called == "resolve" and len(node.args) == 2:
                    found.add(_text(node.args[1]))
                elif called == "replace" and len(node.args) == 2:
                    found.update(_text(argument) for argument in node.args)
                elif called == "_errors":
                    pairs = [a for a in node.args if isinstance(a, ast.Tuple) and len(a.elts) == 2]
                    found.update(_text(pair.elts[1]) for pair in pairs)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
                found.add(_text(node.value))
    return {code for code in found if code is not None}


CODES = problem_codes("validate.py", "shaping.py", "references.py", "values.py", "headers.py")

# the message parameters each code is given where it is raised (``value`` is always there)
PARAMS: dict[str, dict[str, Any]] = {
    "unknown_value": {"allowed": "active, churned, won_back"},
    "below_minimum": {"minimum": 0, "maximum": None},
    "above_maximum": {"minimum": 0, "maximum": 10},
    "negative_amount": {"minimum": 0, "maximum": None},
    "too_long": {"limit": 64, "length": 70},
    "required_one_of": {"columns": "客户编号 / 客户名称"},
    "duplicate_row": {"first": 12},
    "duplicate_key": {"first": 12},
    "ends_before_start": {"other": "2025-03-01"},
    "before_opened": {"other": "2025-03-01 10:00"},
    "score_out_of_range": {"kind": "nps"},
    "mapping_unknown_header": {"column": "单据", "headers": "订单号、客户名称"},
    "mapping_unknown_field": {
        "column": "金额",
        "field": "revenue_net",
        "fields": "external_id, amount",
    },
    "missing_column": {"field": "amount", "headers": "订单号、客户名称"},
    "missing_one_of": {"fields": "客户编号 / 客户名称", "headers": "订单号、下单日期"},
}
# the parse errors of values.py are reported with the ``allowed`` of their column
PARSE_ERRORS = ["bad_date", "date_too_old", "future_date", "bad_amount", "bad_integer"]
PARSE_ERRORS += ["not_integer", "bad_boolean"]
PARAMS |= {code: {"allowed": ""} for code in PARSE_ERRORS}


def code_cases() -> list[Any]:
    return sorted(CODES)


class TestKinds:
    @pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
    def test_no_two_fields_of_a_kind_share_a_header(self, kind: Any) -> None:
        owners: dict[str, set[str]] = defaultdict(set)
        for field in kind.fields:
            for header in field.headers:
                owners[normalise_header(header)].add(field.name)

        assert {header: names for header, names in owners.items() if len(names) > 1} == {}

    @pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
    def test_a_field_code_is_not_another_fields_header(self, kind: Any) -> None:
        # a mapping file may name a field by its code or by a header: they must agree
        headers = {
            normalise_header(header): field.name
            for field in kind.fields
            for header in field.headers
        }

        clashes = {
            field.name: headers[normalise_header(field.name)]
            for field in kind.fields
            if headers.get(normalise_header(field.name), field.name) != field.name
        }
        assert clashes == {}

    @pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
    def test_its_natural_key_and_one_of_groups_name_its_fields(self, kind: Any) -> None:
        named = set(kind.natural_key) - {"customer"}
        named |= {name for group in kind.one_of for name in group}

        assert named <= set(kind.names)

    @pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
    def test_every_choice_word_means_one_code_and_every_code_is_accepted(self, kind: Any) -> None:
        for field in kind.fields:
            if not field.choices:
                continue
            codes = sorted(set(field.choices.values()))

            parsed = parse_choices(pd.Series(codes, dtype=object), field.choices)

            assert parsed.values.tolist() == codes, field.name

    def test_every_alias_names_a_kind(self) -> None:
        assert set(KIND_ALIASES.values()) <= set(KINDS)


class TestFieldLabels:
    @pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
    def test_every_field_has_a_label_in_both_catalogues(self, locale: str) -> None:
        keys = {field.label_key for kind in KINDS.values() for field in kind.fields}

        assert sorted(keys - set(catalogue(locale))) == []


class TestProblemMessages:
    def test_finds_the_codes_of_every_check(self) -> None:
        assert {
            "required",
            "bad_date",
            "unknown_value",
            "negative_amount",
            "too_long",
            "unknown_customer",
            "ambiguous_user",
            "unknown_contract",
            "duplicate_key",
            "before_opened",
            "score_needs_kind",
            "missing_column",
            "mapping_unknown_field",
        } <= CODES

    @pytest.mark.parametrize("code", code_cases())
    @pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
    def test_every_code_has_a_message_that_renders_whole(self, code: str, locale: str) -> None:
        problem = {
            "code": code,
            "header": "订单金额",
            "field": "amount",
            "value": "¥-1,2x",
            "params": PARAMS.get(code, {}),
        }

        text = render(problem, locale)

        assert f"ingest.problem.{code}" in catalogue(locale)
        assert "{" not in text
        assert "}" not in text
        assert "订单金额" in text
