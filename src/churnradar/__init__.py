"""churnradar (流失雷达): self-hosted customer churn analysis and early warning."""

__version__ = "0.1.0"
