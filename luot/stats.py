"""The few statistics every report of Lượt shares: the hub's, the city's, the benchmarks'."""

from __future__ import annotations

import math


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: the value that a share q (0–100) of the sample does not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes to two places, as the reports print them."""
    return None if seconds is None else round(seconds / 60, 2)
