"""The planner's answer for the centre as a whole: the fewest counters, and which fields each
serves, that keep the p90 wait of every field under the target, checked by simulating that
arrangement through the real dispatcher.

Counters are shared between fields, so one Erlang C figure per field ("counters serving only
it") adds up to far more counters than the centre needs. The search starts from the pooled
bound (Erlang C on the whole centre's load at its busiest hour) and adds a counter until a
simulated day of the arrangement meets the target. In an arrangement each counter serves
one field first, given out in proportion to the fields' loads, and up to two more after
it, so that every field has counters to fall back on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import ImageDraw

from tools.report.page import GREY, INK, MARGIN, TARGET, draw_text, fit_text, heading
from tools.simulate.day import day_figures, simulate
from tools.simulate.erlang import counters_needed
from tools.simulate.profile import LoadProfile

FIELDS_PER_COUNTER = 3
MAX_TRIES = 8


@dataclass(frozen=True)
class Tried:
    counters: list[dict[str, Any]]  # [{"number": 1, "services": ["CT", "HT"]}, …] as a profile gives them
    p90_min: dict[str, float | None]  # the simulated p90 wait of each field
    target_min: float

    @property
    def meets(self) -> bool:
        return all(v is not None and v <= self.target_min for v in self.p90_min.values())

    @property
    def worst(self) -> float | None:
        known = [v for v in self.p90_min.values() if v is not None]
        return max(known) if known else None


@dataclass(frozen=True)
class CentrePlan:
    peak_hour: str
    peak_erlangs: float
    pooled_bound: int  # Erlang C for the whole centre at its busiest hour
    tried: list[Tried]  # each arrangement simulated, in the order tried

    @property
    def answer(self) -> Tried | None:
        """The arrangement of fewest counters that met the target."""
        meeting = [t for t in self.tried if t.meets]
        return min(meeting, key=lambda t: len(t.counters)) if meeting else None


def hour_label(profile: LoadProfile, hour: int) -> str:
    minutes = profile.opens.hour * 60 + profile.opens.minute + hour * 60
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def hourly_load(profile: LoadProfile) -> list[tuple[float, float, float]]:
    """For each hour: arrivals, the load in Erlangs (arrivals × service time) and the mean service."""
    rows = []
    for hour in range(profile.hours):
        rates = [(d.per_hour[hour] if hour < len(d.per_hour) else 0.0, d.service_time.mean_min)
                 for d in profile.demand]
        arrivals = sum(r for r, _ in rates)
        erlangs = sum(r / 60 * s for r, s in rates)
        rows.append((arrivals, erlangs, erlangs * 60 / arrivals if arrivals else 0.0))
    return rows


def pooled_bound(profile: LoadProfile) -> tuple[int, int, float]:
    """(counters, busiest hour, its Erlangs): the fewest counters that would meet the target if
    every counter served every field, at the hour that needs most."""
    needs = []
    for hour, (arrivals, erlangs, service_min) in enumerate(hourly_load(profile)):
        need = counters_needed(arrivals, service_min, profile.p90_target_min) if arrivals else 0
        needs.append((need if need is not None else math.ceil(erlangs) + 1, hour, erlangs))
    return max(needs)


def field_loads(profile: LoadProfile) -> dict[str, float]:
    """Each field's load in Erlangs at its own busiest hour."""
    return {d.service: max(d.per_hour) / 60 * d.service_time.mean_min for d in profile.demand}


def arrangement(profile: LoadProfile, counters: int) -> list[dict[str, Any]]:
    """`counters` counters: first fields in proportion to load (largest remainder, every field
    one if there are enough), then the next fields by load as fallbacks, in rotation."""
    loads = field_loads(profile)
    fields = sorted(loads, key=lambda f: -loads[f])
    total = sum(loads.values()) or 1.0
    base = {f: 1 if counters >= len(fields) else 0 for f in fields}
    spare = counters - sum(base.values())
    quotas = {f: loads[f] / total * spare for f in fields}
    share = {f: base[f] + math.floor(quotas[f]) for f in fields}
    by_remainder = sorted(fields, key=lambda f: -(quotas[f] - math.floor(quotas[f])))
    for f in by_remainder[:counters - sum(share.values())]:
        share[f] += 1
    firsts = [f for f in fields for _ in range(share[f])]
    unserved = [f for f in fields if share[f] == 0]
    made = []
    for i, first in enumerate(firsts):
        others = [f for f in unserved if f != first] + [f for f in fields if f != first and f not in unserved]
        rotated = others[i % len(others):] + others[:i % len(others)] if others else []
        made.append({"number": i + 1, "services": [first, *rotated[:FIELDS_PER_COUNTER - 1]]})
    return made


def plan_centre(profile: LoadProfile, workdir: Path, ms_per_min: float,
                say: Callable[[str], None] = print) -> CentrePlan:
    """Simulate arrangements until the fewest counters that meet the p90 target are found."""
    bound, peak, erlangs = pooled_bound(profile)
    loads = [e for _, e, _ in hourly_load(profile)]
    tried: dict[int, Tried] = {}

    def attempt(counters: int) -> Tried:
        if counters not in tried:
            layout = arrangement(profile, counters)
            result, site = simulate(replace(profile, counters=layout), workdir / f"plan-{counters}",
                                    ms_per_min)
            figures = day_figures(profile, site, result)
            tried[counters] = Tried(layout, {s.code: s.wait_p90_min for s in figures.services},
                                    profile.p90_target_min)
            say(f"  planner: {counters} counters → the worst field's p90 wait "
                f"{_minutes(tried[counters].worst)} min")
        return tried[counters]

    high = max(1, bound)
    while not attempt(high).meets and high < bound + MAX_TRIES:
        high += 1
    if attempt(high).meets:
        low = max(1, min(high, math.ceil(sum(loads) / max(1, len(loads)))))
        while low < high:
            middle = (low + high) // 2
            if attempt(middle).meets:
                high = middle
            else:
                low = middle + 1
    return CentrePlan(hour_label(profile, peak), round(erlangs, 1), bound, list(tried.values()))


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def plan_lines(plan: CentrePlan, target_min: float) -> list[str]:
    """The answer as the command prints it."""
    lines = [f"planner: peak load {plan.peak_erlangs:g} Erlangs at {plan.peak_hour}; "
             f"{plan.pooled_bound} counters if every counter served every field (Erlang C)"]
    answer = plan.answer
    if answer is None:
        last = max(plan.tried, key=lambda t: len(t.counters))
        lines.append(f"no arrangement of up to {len(last.counters)} counters kept every field's p90 wait "
                     f"≤ {target_min:g} min (worst {_minutes(last.worst)} min)")
        return lines
    lines.append(f"{len(answer.counters)} counters keep every field's p90 wait ≤ {target_min:g} min "
                 f"(simulated through the dispatcher; worst {_minutes(answer.worst)} min):")
    lines += [f"  quầy {c['number']}: {', '.join(c['services'])}" for c in answer.counters]
    return lines


def plan_section(plan: CentrePlan, names: dict[str, str],
                 target_min: float) -> Callable[[ImageDraw.ImageDraw, float], float]:
    """The plan's part of the summary page."""

    def draw_plan(draw: ImageDraw.ImageDraw, y: float) -> float:
        target = f"{target_min:g}".replace(".", ",")
        answer = plan.answer
        count = str(len(answer.counters)) if answer else "–"
        y = heading(draw, y, f"Số quầy cần cho cả trung tâm: {count} (90 % người dân chờ ≤ {target} phút)",
                    f"Counters the centre needs: {count}, every field's p90 wait ≤ {target} min "
                    "(simulated through the dispatcher)")
        draw_text(draw, (MARGIN, y), f"Tải cao điểm {plan.peak_erlangs:g} Erlang lúc {plan.peak_hour}; "
                  f"nếu mọi quầy làm mọi lĩnh vực: {plan.pooled_bound} quầy.", 17, GREY)
        y += 30
        for tried in sorted(plan.tried, key=lambda t: len(t.counters)):
            colour = INK if tried.meets else TARGET
            worst = _minutes(tried.worst)
            draw_text(draw, (MARGIN, y), f"{len(tried.counters)} quầy: p90 lớn nhất {worst} phút"
                      f" · worst p90 {worst} min", 17, colour, bold=tried.meets)
            y += 26
        for counter in answer.counters if answer else []:
            served = ", ".join(names.get(code, code) for code in counter["services"])
            draw_text(draw, (MARGIN, y), fit_text(draw, f"Quầy {counter['number']}: {served}", 17, 1100), 17)
            y += 26
        return y + 10

    return draw_plan
