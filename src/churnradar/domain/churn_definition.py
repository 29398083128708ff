"""What counts as churn (DESIGN.md section 6), as a value the analytics layer takes."""

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class ChurnDefinition:
    """Churn definition per business model.

    contract_grace_days: a subscription that ended is churn if no renewal starts within this
        many days of its end.
    noncontract_inactive_days: a repeat buyer is churned after this many days without an order;
        ``None`` means "derive it from the customer base's inter-purchase distribution".
    noncontract_inactive_quantile: the quantile of inter-purchase intervals used when deriving.
    segment_inactive_days: per-segment overrides of ``noncontract_inactive_days``.
    """

    contract_grace_days: int = 30
    noncontract_inactive_days: int | None = None
    noncontract_inactive_quantile: float = 0.9
    segment_inactive_days: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.contract_grace_days < 0:
            raise ValueError("contract_grace_days must be >= 0")
        if self.noncontract_inactive_days is not None and self.noncontract_inactive_days <= 0:
            raise ValueError("noncontract_inactive_days must be > 0")
        if not 0.5 <= self.noncontract_inactive_quantile < 1:
            raise ValueError("noncontract_inactive_quantile must be in [0.5, 1)")
        for segment, days in self.segment_inactive_days.items():
            if days <= 0:
                raise ValueError(f"segment_inactive_days[{segment!r}] must be > 0")
