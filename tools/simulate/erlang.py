"""M/M/c formulas (Erlang C) for the planner."""

from __future__ import annotations

import math

P90 = 0.10  # the share of citizens allowed to wait longer than the target


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (load a = λ/μ < c)."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    top = term * load / servers * servers / (servers - load)
    return top / (total + top)


def mmc_mean_wait(arrivals_per_min: float, service_min: float, servers: int) -> float:
    """Mean wait in queue (minutes) of M/M/c: C(c, a) / (cμ − λ)."""
    load = arrivals_per_min * service_min
    return erlang_c(servers, load) / (servers / service_min - arrivals_per_min)


def counters_needed(per_hour: float, service_min: float, target_min: float, limit: int = 200) -> int | None:
    """The fewest counters for which P(wait > target) ≤ 10 % in M/M/c at this arrival rate."""
    if per_hour <= 0:
        return 0
    rate = per_hour / 60
    load = rate * service_min
    for c in range(max(1, math.floor(load) + 1), limit + 1):
        if erlang_c(c, load) * math.exp(-(c - load) * target_min / service_min) <= P90:
            return c
    return None
