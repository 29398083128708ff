"""``churnradar demo``: build the synthetic demo company (filled in below)."""
