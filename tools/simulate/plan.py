"""The planner's answer: counters now and counters needed per service, on the page and in CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import ImageDraw

from luot.config import SiteConfig
from tools.report import Figures
from tools.report.page import GREY, INK, MARGIN, TARGET, draw_text, fit_text, heading
from tools.simulate.erlang import counters_needed
from tools.simulate.profile import LoadProfile


@dataclass(frozen=True)
class PlanRow:
    """The planner's answer for one service: counters now, and needed to keep p90 under target."""

    code: str
    counters_now: int  # counters that serve it at all
    first_choice: int  # of those, counters that serve it before any other service
    needed: int | None  # None: no number of counters does it (or no arrivals)
    peak_hour: str
    peak_per_hour: float


def plan(profile: LoadProfile, site: SiteConfig, figures: Figures) -> tuple[list[PlanRow], list[list[Any]]]:
    """Per service: counters now, counters needed at the peak hour; and the hour-by-hour table."""
    measured = {s.code: s.service_mean_min for s in figures.services}
    rows: list[PlanRow] = []
    table: list[list[Any]] = []
    for d in profile.demand:
        service_min = measured.get(d.service) or d.service_time.mean_min
        needs = [counters_needed(rate, service_min, profile.p90_target_min) for rate in d.per_hour]
        for hour, (rate, need) in enumerate(zip(d.per_hour, needs, strict=True)):
            table.append([d.service, hour_label(profile, hour), rate, round(service_min, 2),
                          "" if need is None else need])
        peak = max(range(len(d.per_hour)), key=lambda h: d.per_hour[h])
        needed = None if any(n is None for n in needs) else max(n for n in needs if n is not None)
        rows.append(PlanRow(
            code=d.service,
            counters_now=sum(d.service in c.services for c in site.counters),
            first_choice=sum(c.services[0] == d.service for c in site.counters),
            needed=needed,
            peak_hour=hour_label(profile, peak),
            peak_per_hour=d.per_hour[peak],
        ))
    return rows, table


def hour_label(profile: LoadProfile, hour: int) -> str:
    minutes = profile.opens.hour * 60 + profile.opens.minute + hour * 60
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def plan_section(rows: list[PlanRow], names: dict[str, str],
                 target_min: float | None) -> Callable[[ImageDraw.ImageDraw, float], float]:
    """The plan's part of the summary page."""

    def draw_plan(draw: ImageDraw.ImageDraw, y: float) -> float:
        target = f"{target_min:g}".replace(".", ",") if target_min is not None else "–"
        y = heading(draw, y, f"Số quầy cần để 90 % người dân chờ không quá {target} phút",
                     f"Counters needed to keep the p90 wait under {target} minutes (Erlang C, peak hour)")
        columns = [(MARGIN, "Lĩnh vực / Service"), (MARGIN + 470, "Quầy hiện có / Now"),
                   (MARGIN + 700, "Cần / Needed"), (MARGIN + 880, "Giờ cao điểm / Peak")]
        for x, head in columns:
            draw_text(draw, (x, y), head, 16, GREY, bold=True)
        y += 30
        for row in rows:
            needed = "–" if row.needed is None else str(row.needed)
            short = row.needed is not None and row.needed > row.first_choice
            label = fit_text(draw, f"{row.code} · {names.get(row.code, row.code)}", 18, 460)
            draw_text(draw, (MARGIN, y), label, 18)
            draw_text(draw, (MARGIN + 470, y), f"{row.counters_now} ({row.first_choice} chính)", 18)
            draw_text(draw, (MARGIN + 700, y), needed, 18, TARGET if short else INK, bold=short)
            peak = f"{row.peak_hour}  {row.peak_per_hour:.0f} phiếu/giờ"
            draw_text(draw, (MARGIN + 880, y), peak, 18, GREY)
            y += 30
        for line in ("Hiện có: số quầy phục vụ lĩnh vực (trong ngoặc: quầy ưu tiên lĩnh vực này trước).",
                     "Cần: số quầy chỉ phục vụ lĩnh vực đó, ở giờ đông nhất (M/M/c, Erlang C).",
                     "Now: counters serving it (in brackets: serving it first). Needed: counters "
                     "serving only it, at its busiest hour."):
            y += 4
            draw_text(draw, (MARGIN, y), line, 15, GREY)
            y += 20
        y += 10
        return y

    return draw_plan
