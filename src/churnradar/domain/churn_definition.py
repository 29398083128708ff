"""What counts as churn (DESIGN.md section 6), as a value the analytics layer takes."""

from dataclasses import dataclass, field

from churnradar.domain.enums import ChurnType, ReasonCode

# Reasons that make a stated churn passive (被动流失): the customer left after a service or
# product failure or to a competitor. Other stated reasons make it active (主动流失).
PASSIVE_CHURN_REASONS = frozenset({ReasonCode.SERVICE, ReasonCode.COMPETITION, ReasonCode.PRODUCT})


def stated_churn_type(reason: ReasonCode) -> ChurnType:
    """The type of a churn the customer stated (a recorded event or a cancellation)."""
    return ChurnType.PASSIVE if reason in PASSIVE_CHURN_REASONS else ChurnType.ACTIVE


@dataclass(frozen=True, kw_only=True)
class ChurnDefinition:
    """Churn definition per business model.

    contract_grace_days: a subscription that ended is churn if no renewal starts within this
        many days of its end.
    noncontract_inactive_days: a repeat buyer is churned after this many days without an order;
        ``None`` means "derive it from the customer base's inter-purchase distribution".
    noncontract_inactive_quantile: the quantile of inter-purchase intervals used when deriving.
    derive_by_segment: derive a threshold per segment from its own intervals (a segment
        without enough of them uses the overall one).
    segment_inactive_days: per-segment overrides of ``noncontract_inactive_days``.

    Which applies when several do: see docs/churn-definitions.md. A customer's churn date,
    type and reason come from a recorded churn event if there is one, else a cancellation,
    else the earliest of a lapsed contract and inactivity.
    """

    contract_grace_days: int = 30
    noncontract_inactive_days: int | None = None
    noncontract_inactive_quantile: float = 0.98
    derive_by_segment: bool = True
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
