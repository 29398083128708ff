"""Directories: customers by number or name, users by any name they go by, contract numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churnradar.ingest.references import CustomerDirectory, KeyDirectory, Resolved, UserDirectory


def column(*values: Any) -> pd.Series:
    return pd.Series(values, dtype=object)


def keys_of(resolved: Resolved) -> list[Any]:
    return [None if pd.isna(key) else key for key in resolved.keys]


def errors_of(resolved: Resolved) -> list[Any]:
    return [None if pd.isna(code) else code for code in resolved.errors]


def customers(**overrides: list[Any]) -> CustomerDirectory:
    """Three customers, two of them named 华联超市 (the name written with a space once)."""
    frame = pd.DataFrame(
        {
            "external_id": ["C001", "C002", "C003"],
            "name": ["华联超市", "北京新源科技", "华联 超市"],
            **overrides,
        }
    )
    return CustomerDirectory(frame)


def users() -> UserDirectory:
    """Three sales reps; 张伟 is the display name of two of them."""
    return UserDirectory(
        pd.DataFrame(
            {
                "username": ["zhangwei", "lina", "zhangwei2"],
                "display_name": ["张伟", "李娜", "张伟"],
                "external_id": ["E01", None, "E03"],
                "email": ["zhangwei@example.cn", "lina@example.cn", None],
            }
        )
    )


class TestCustomerDirectoryResolve:
    def test_finds_customers_by_number(self) -> None:
        resolved = customers().resolve(column("C002", "C001"), None)

        assert keys_of(resolved) == ["C002", "C001"]
        assert errors_of(resolved) == [None, None]

    def test_an_unknown_number_is_unknown_even_with_a_known_name(self) -> None:
        resolved = customers().resolve(column("C999"), column("北京新源科技"))

        assert keys_of(resolved) == [None]
        assert errors_of(resolved) == ["unknown_customer"]

    def test_finds_by_name_where_the_number_is_empty_ignoring_case_and_spaces(self) -> None:
        directory = customers(name=["Acme Ltd", "北京新源科技", "Zeta"])

        resolved = directory.resolve(column(None, None), column("北京 新源科技", "ACME LTD"))

        assert keys_of(resolved) == ["C002", "C001"]
        assert errors_of(resolved) == [None, None]

    def test_a_name_two_customers_share_is_ambiguous(self) -> None:
        resolved = customers().resolve(None, column("华联超市", "北京新源科技"))

        assert keys_of(resolved) == [None, "C002"]
        assert errors_of(resolved) == ["ambiguous_customer", None]

    def test_a_name_no_customer_has_is_unknown(self) -> None:
        resolved = customers().resolve(None, column("杭州新客"))

        assert errors_of(resolved) == ["unknown_customer"]

    def test_an_empty_row_is_neither_resolved_nor_an_error(self) -> None:
        resolved = customers().resolve(column(None), column(None))

        assert (keys_of(resolved), errors_of(resolved)) == ([None], [None])

    def test_a_name_repeated_under_one_number_is_not_ambiguous(self) -> None:
        directory = CustomerDirectory(
            pd.DataFrame({"external_id": ["C001", "C001"], "name": ["华联超市", "华联超市"]})
        )

        assert keys_of(directory.resolve(None, column("华联超市"))) == ["C001"]


class TestCustomerDirectoryAdd:
    def test_learns_new_customers_by_number_and_by_name(self) -> None:
        directory = customers()

        directory.add(column("C010"), column("杭州新客"))

        resolved = directory.resolve(column("C010", None), column(None, "杭州新客"))
        assert keys_of(resolved) == ["C010", "C010"]

    def test_a_new_customer_with_a_known_name_makes_the_name_ambiguous(self) -> None:
        directory = customers()

        directory.add(column("C010"), column("北京新源科技"))

        assert errors_of(directory.resolve(None, column("北京新源科技"))) == ["ambiguous_customer"]

    def test_a_name_stays_ambiguous_after_other_customers_are_added(self) -> None:
        directory = customers()

        directory.add(column("C010"), column("杭州新客"))

        assert errors_of(directory.resolve(None, column("华联超市"))) == ["ambiguous_customer"]


class TestUserDirectoryResolve:
    def test_finds_users_by_user_name_display_name_external_id_and_email(self) -> None:
        resolved = users().resolve(column("zhangwei", "李娜", "E03", "LINA@example.cn"))

        assert keys_of(resolved) == ["zhangwei", "lina", "zhangwei2", "lina"]
        assert errors_of(resolved) == [None, None, None, None]

    def test_a_display_name_two_users_share_is_ambiguous(self) -> None:
        resolved = users().resolve(column("张伟"))

        assert (keys_of(resolved), errors_of(resolved)) == ([None], ["ambiguous_user"])

    def test_an_unknown_name_is_unknown_and_an_empty_cell_is_fine(self) -> None:
        resolved = users().resolve(column("王芳", None))

        assert keys_of(resolved) == [None, None]
        assert errors_of(resolved) == ["unknown_user", None]


class TestUserDirectoryAdd:
    def test_learns_users_created_by_the_import(self) -> None:
        directory = users()

        directory.add(pd.DataFrame({"username": ["王芳"], "display_name": ["王芳"]}))

        assert keys_of(directory.resolve(column("王芳"))) == ["王芳"]

    def test_a_name_stays_ambiguous_after_other_users_are_added(self) -> None:
        directory = users()

        directory.add(pd.DataFrame({"username": ["王芳"], "display_name": ["王芳"]}))

        assert errors_of(directory.resolve(column("张伟"))) == ["ambiguous_user"]


class TestKeyDirectoryResolve:
    def test_knows_the_keys_it_was_given_and_reports_the_others_with_the_code(self) -> None:
        directory = KeyDirectory(column("S-2024-01", None))

        resolved = directory.resolve(column("S-2024-01", "S-2024-99", None), "unknown_contract")

        assert keys_of(resolved) == ["S-2024-01", None, None]
        assert errors_of(resolved) == [None, "unknown_contract", None]

    def test_learns_keys_added_later(self) -> None:
        directory = KeyDirectory(column())

        directory.add(column("S-2025-01"))

        assert errors_of(directory.resolve(column("S-2025-01"), "unknown_contract")) == [None]
