"""ChurnDefinition: what counts as churn, refused when it cannot mean anything."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from churnradar.domain import ChurnDefinition


class TestChurnDefinition:
    def test_defaults_follow_the_design(self) -> None:
        definition = ChurnDefinition()

        assert definition.contract_grace_days == 30
        assert definition.noncontract_inactive_days is None  # derived from the data
        assert definition.noncontract_inactive_quantile == 0.98
        assert definition.segment_inactive_days == {}

    @pytest.mark.parametrize(
        "fields",
        [
            {"contract_grace_days": 0},
            {"noncontract_inactive_days": 1},
            {"noncontract_inactive_days": 180},
            {"noncontract_inactive_quantile": 0.5},
            {"noncontract_inactive_quantile": 0.99},
            {"segment_inactive_days": {"大客户": 365, "小微": 1}},
        ],
    )
    def test_accepts_the_edges_of_each_range(self, fields: dict[str, Any]) -> None:
        definition = ChurnDefinition(**fields)

        for name, value in fields.items():
            assert getattr(definition, name) == value

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"contract_grace_days": -1}, "contract_grace_days must be >= 0"),
            ({"noncontract_inactive_days": 0}, "noncontract_inactive_days must be > 0"),
            ({"noncontract_inactive_days": -30}, "noncontract_inactive_days must be > 0"),
            (
                {"noncontract_inactive_quantile": 0.49},
                r"noncontract_inactive_quantile .*\[0\.5, 1\)",
            ),
            (
                {"noncontract_inactive_quantile": 1.0},
                r"noncontract_inactive_quantile .*\[0\.5, 1\)",
            ),
            (
                {"noncontract_inactive_quantile": 0.0},
                r"noncontract_inactive_quantile .*\[0\.5, 1\)",
            ),
            (
                {"segment_inactive_days": {"大客户": 0}},
                r"segment_inactive_days\['大客户'\] must be > 0",
            ),
            (
                {"segment_inactive_days": {"大客户": 365, "小微": -7}},
                r"segment_inactive_days\['小微'\]",
            ),
        ],
    )
    def test_refuses_values_that_cannot_define_churn(
        self, fields: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            ChurnDefinition(**fields)

    def test_takes_keywords_only(self) -> None:
        with pytest.raises(TypeError):
            ChurnDefinition(30)  # type: ignore[call-arg]

    def test_is_an_immutable_value(self) -> None:
        definition = ChurnDefinition(noncontract_inactive_days=90)

        with pytest.raises(dataclasses.FrozenInstanceError):
            definition.noncontract_inactive_days = 10  # type: ignore[misc]
        assert definition == ChurnDefinition(noncontract_inactive_days=90)
        assert definition != ChurnDefinition(noncontract_inactive_days=91)

    def test_replace_validates_again(self) -> None:
        definition = ChurnDefinition()

        with pytest.raises(ValueError, match="contract_grace_days"):
            dataclasses.replace(definition, contract_grace_days=-5)

    def test_instances_do_not_share_their_segment_overrides(self) -> None:
        first, second = ChurnDefinition(), ChurnDefinition()

        assert first.segment_inactive_days is not second.segment_inactive_days
