"""The few statistics every report of Lượt shares: the hub's, the city's, the benchmarks'."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping


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


def tally(scores: Iterable[int | None]) -> dict[int, int]:
    """Votes per rating (1–5), the best first, as the reports list them; no vote is no row."""
    return dict(sorted(Counter(s for s in scores if s is not None).items(), reverse=True))


def rating_mean(ratings: Mapping[int, int]) -> float | None:
    votes = sum(ratings.values())
    return round(sum(k * n for k, n in ratings.items()) / votes, 2) if votes else None


def satisfied_pct(ratings: Mapping[int, int]) -> float | None:
    """Share of votes that are 'satisfied' (4) or 'very satisfied' (5), in percent."""
    votes = sum(ratings.values())
    return (ratings.get(5, 0) + ratings.get(4, 0)) / votes * 100 if votes else None
