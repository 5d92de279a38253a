"""`luot report`: a day's (or a range of days') figures from the hub's database, for the leaders.

Per service and per counter: tickets, waits (mean, p90, max), service times,
no-shows, idle counter time and the citizens' satisfaction votes, as CSV
(UTF-8 with a byte-order mark, so a spreadsheet shows the Vietnamese) and a
one-page PNG summary, Vietnamese first. `luot simulate` computes and draws its
figures with the same code from the visits it simulated.
"""

from __future__ import annotations

import argparse
import csv
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from luot.config import ConfigError, SiteConfig, load_site
from luot.protocol import RATINGS
from luot.text import nfc, pil_font

DEFAULT_SITE = Path("/etc/luot/site.toml")
DEFAULT_TZ = "Asia/Ho_Chi_Minh"


# --------------------------------------------------------------------------- records


@dataclass
class Visit:
    """One ticket's life, timestamps in seconds (epoch for a real day, simulated for a simulation)."""

    ticket: int
    number: str
    service: str
    issued_at: float
    called_at: float | None = None  # the first call: the wait ends here
    served_from: float | None = None  # the call that led to the end of service
    finished_at: float | None = None
    status: str = "waiting"  # waiting, serving, served, noshow, expired
    counter: int | None = None
    rating: int | None = None
    day: str = ""

    @property
    def wait_s(self) -> float | None:
        return None if self.called_at is None else self.called_at - self.issued_at

    @property
    def service_s(self) -> float | None:
        if self.status != "served" or self.served_from is None or self.finished_at is None:
            return None
        return self.finished_at - self.served_from


@dataclass
class Stint:
    """A counter busy with one ticket: from its call to its end (served, no-show, sent on)."""

    counter: int
    ticket: int
    start: float
    end: float
    day: str = ""


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the value a share q of the sample does not exceed)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 2)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class ServiceFigures:
    code: str
    name: str
    issued: int = 0
    refused: int = 0
    served: int = 0
    noshow: int = 0
    unserved: int = 0
    wait_mean_min: float | None = None
    wait_p90_min: float | None = None
    wait_max_min: float | None = None
    service_mean_min: float | None = None
    service_p90_min: float | None = None
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def rating_mean(self) -> float | None:
        votes = sum(self.ratings.values())
        return round(sum(k * n for k, n in self.ratings.items()) / votes, 2) if votes else None


@dataclass
class CounterFigures:
    counter: int
    name: str
    called: int = 0
    served: int = 0
    noshow: int = 0
    busy_min: float = 0.0
    idle_min: float = 0.0
    service_mean_min: float | None = None
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def utilisation(self) -> float | None:
        total = self.busy_min + self.idle_min
        return round(self.busy_min / total, 3) if total > 0 else None


@dataclass
class Figures:
    services: list[ServiceFigures]
    counters: list[CounterFigures]
    total: ServiceFigures
    per_hour: dict[int, dict[str, int]]  # hour of day → service → tickets issued


def _service_figures(code: str, name: str, visits: list[Visit], refused: int) -> ServiceFigures:
    waits = [v.wait_s for v in visits if v.wait_s is not None]
    times = [v.service_s for v in visits if v.service_s is not None]
    ratings: dict[int, int] = defaultdict(int)
    for v in visits:
        if v.rating is not None:
            ratings[v.rating] += 1
    return ServiceFigures(
        code=code,
        name=name,
        issued=len(visits),
        refused=refused,
        served=sum(v.status == "served" for v in visits),
        noshow=sum(v.status == "noshow" for v in visits),
        unserved=sum(v.status in ("waiting", "expired") for v in visits),
        wait_mean_min=_minutes(_mean(waits)),
        wait_p90_min=_minutes(percentile(waits, 90)),
        wait_max_min=_minutes(max(waits) if waits else None),
        service_mean_min=_minutes(_mean(times)),
        service_p90_min=_minutes(percentile(times, 90)),
        ratings=dict(sorted(ratings.items(), reverse=True)),
    )


def compute_figures(
    visits: Iterable[Visit],
    stints: Iterable[Stint],
    *,
    services: list[tuple[str, str]],
    counters: list[tuple[int, str]],
    hour_of: Callable[[float], int],
    refused: dict[str, int] | None = None,
    spans: dict[tuple[str, int], tuple[float, float]] | None = None,
) -> Figures:
    """Figures per service and per counter.

    A counter's idle time is its span minus its busy time. The span of a counter on a
    day is `spans[(day, counter)]` when given (a simulation knows when officers sit
    down), else from its first call to its last end that day.
    """
    visits = list(visits)
    stints = list(stints)
    refused = refused or {}
    known = {code for code, _ in services}
    services = services + [(v.service, v.service) for v in visits if v.service not in known]
    services = list(dict.fromkeys(services))
    by_service: dict[str, list[Visit]] = defaultdict(list)
    per_hour: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in visits:
        by_service[v.service].append(v)
        per_hour[hour_of(v.issued_at)][v.service] += 1
    service_rows = [
        _service_figures(code, name, by_service[code], refused.get(code, 0)) for code, name in services
    ]
    total = _service_figures("*", "Tất cả", visits, sum(refused.values()))

    names = dict(counters)
    numbers = sorted(set(names) | {s.counter for s in stints})
    by_counter: dict[int, list[Stint]] = defaultdict(list)
    for s in stints:
        by_counter[s.counter].append(s)
    visit_by_id = {v.ticket: v for v in visits}
    counter_rows = []
    for number in numbers:
        mine = by_counter[number]
        busy = sum(s.end - s.start for s in mine)
        span = 0.0
        days = {s.day for s in mine} | {d for d, c in (spans or {}) if c == number}
        for day in days:
            if spans and (day, number) in spans:
                start, end = spans[(day, number)]
                end = max([end] + [s.end for s in mine if s.day == day])
            else:
                start = min(s.start for s in mine if s.day == day)
                end = max(s.end for s in mine if s.day == day)
            span += end - start
        ended = [visit_by_id[s.ticket] for s in mine if s.ticket in visit_by_id]
        finished_here = {v.ticket: v for v in ended if v.counter == number}
        times = [v.service_s for v in finished_here.values() if v.service_s is not None]
        ratings: dict[int, int] = defaultdict(int)
        for v in finished_here.values():
            if v.rating is not None:
                ratings[v.rating] += 1
        counter_rows.append(
            CounterFigures(
                counter=number,
                name=names.get(number, f"Quầy {number}"),
                called=len({s.ticket for s in mine}),
                served=sum(v.status == "served" for v in finished_here.values()),
                noshow=sum(v.status == "noshow" for v in finished_here.values()),
                busy_min=round(busy / 60, 1),
                idle_min=round(max(0.0, span - busy) / 60, 1),
                service_mean_min=_minutes(_mean(times)),
                ratings=dict(sorted(ratings.items(), reverse=True)),
            )
        )
    hours = {h: dict(per_hour[h]) for h in sorted(per_hour)}
    return Figures(service_rows, counter_rows, total, hours)


# --------------------------------------------------------------------------- CSV


def _cell(value: object) -> object:
    return "" if value is None else value


def write_csv(figures: Figures, out: Path) -> list[Path]:
    """services.csv, counters.csv, hours.csv (UTF-8 with BOM for spreadsheets)."""
    out.mkdir(parents=True, exist_ok=True)
    levels = sorted(RATINGS, reverse=True)
    rating_heads = [f"{RATINGS[k][0]} ({RATINGS[k][1]})" for k in levels]
    services_csv = out / "services.csv"
    with services_csv.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Mã (code)", "Lĩnh vực (service)", "Số phiếu (tickets)", "Bị từ chối (refused)",
                    "Đã phục vụ (served)", "Vắng mặt (no-show)", "Chưa phục vụ (unserved)",
                    "Chờ TB, phút (wait mean, min)", "Chờ p90, phút (wait p90, min)",
                    "Chờ tối đa, phút (wait max, min)", "Phục vụ TB, phút (service mean, min)",
                    "Phục vụ p90, phút (service p90, min)", "Điểm hài lòng TB (rating mean)",
                    *rating_heads])
        for s in [*figures.services, figures.total]:
            w.writerow([s.code, s.name, s.issued, s.refused, s.served, s.noshow, s.unserved,
                        _cell(s.wait_mean_min), _cell(s.wait_p90_min), _cell(s.wait_max_min),
                        _cell(s.service_mean_min), _cell(s.service_p90_min), _cell(s.rating_mean),
                        *[s.ratings.get(k, 0) for k in levels]])
    counters_csv = out / "counters.csv"
    with counters_csv.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Quầy (counter)", "Tên (name)", "Đã gọi (called)", "Đã phục vụ (served)",
                    "Vắng mặt (no-show)", "Bận, phút (busy, min)", "Trống, phút (idle, min)",
                    "Tỉ lệ bận (utilisation)", "Phục vụ TB, phút (service mean, min)", *rating_heads])
        for c in figures.counters:
            w.writerow([c.counter, c.name, c.called, c.served, c.noshow, c.busy_min, c.idle_min,
                        _cell(c.utilisation), _cell(c.service_mean_min),
                        *[c.ratings.get(k, 0) for k in levels]])
    hours_csv = out / "hours.csv"
    codes = [s.code for s in figures.services]
    with hours_csv.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Giờ (hour)", *codes, "Tổng (total)"])
        for hour, counts in figures.per_hour.items():
            w.writerow([f"{hour:02d}:00", *[counts.get(c, 0) for c in codes], sum(counts.values())])
    return [services_csv, counters_csv, hours_csv]


# --------------------------------------------------------------------------- the one-page summary

PAGE_W = 1240
MARGIN = 56
LABEL_W = 330
INK = (33, 37, 41)
GREY = (108, 117, 125)
RULE = (222, 226, 230)
MEAN = (116, 169, 230)
P90 = (24, 92, 170)
TARGET = (200, 40, 40)
BUSY = (46, 139, 87)
IDLE = (206, 212, 218)
SERVICE_COLOURS = [
    (24, 92, 170), (230, 126, 34), (46, 139, 87), (155, 89, 182), (192, 57, 43),
    (22, 160, 133), (241, 196, 15), (127, 140, 141), (52, 73, 94), (211, 84, 0),
]
RATING_COLOURS = {5: (39, 174, 96), 4: (130, 200, 100), 3: (241, 196, 15), 2: (230, 126, 34),
                  1: (192, 57, 43)}


@dataclass(frozen=True)
class PlanRow:
    """The planner's answer for one service: counters now, and needed to keep p90 under target."""

    code: str
    counters_now: int  # counters that serve it at all
    first_choice: int  # of those, counters that serve it before any other service
    needed: int | None  # None: no number of counters does it (or no arrivals)
    peak_hour: str
    peak_per_hour: float


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
          colour: tuple[int, int, int] = INK, bold: bool = False, anchor: str = "la") -> float:
    """Draw NFC text; return its width."""
    font = pil_font(size, bold)
    text = nfc(text)
    draw.text(xy, text, font=font, fill=colour, anchor=anchor)
    return draw.textlength(text, font=font)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: float, bold: bool = False) -> str:
    """`text`, shortened with an ellipsis so it fits `width`."""
    text = nfc(text)
    font = pil_font(size, bold)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _heading(draw: ImageDraw.ImageDraw, y: float, vi: str, en: str) -> float:
    draw.line([(MARGIN, y), (PAGE_W - MARGIN, y)], fill=RULE, width=2)
    _text(draw, (MARGIN, y + 14), vi, 26, bold=True)
    _text(draw, (MARGIN, y + 48), en, 18, GREY)
    return y + 84


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.1f}{unit}".replace(".", ",")


def _scale_max(values: list[float]) -> float:
    top = max([v for v in values if v] or [1.0])
    step = 10 ** math.floor(math.log10(top)) if top > 0 else 1
    return math.ceil(top / step * 1.05) * step if top > 0 else 1.0


def render_summary(path: Path, figures: Figures, *, centre: str, title: str, subtitle: str,
                   show_ratings: bool, target_min: float | None = None,
                   plan: list[PlanRow] | None = None) -> Path:
    """One page (A4 width at 150 dpi): key figures, waits, tickets per hour, counters, votes, plan."""
    image = Image.new("RGB", (PAGE_W, 4000), "white")
    draw = ImageDraw.Draw(image)
    names = {s.code: s.name for s in figures.services}
    inner = PAGE_W - 2 * MARGIN

    _text(draw, (MARGIN, 40), _fit(draw, centre, 24, inner), 24, GREY)
    _text(draw, (MARGIN, 76), _fit(draw, title, 40, inner, True), 40, bold=True)
    _text(draw, (MARGIN, 130), subtitle, 22, GREY)
    y = 180.0

    t = figures.total
    votes = sum(t.ratings.values())
    satisfied = (t.ratings.get(5, 0) + t.ratings.get(4, 0)) / votes * 100 if votes else None
    boxes = [
        ("Số phiếu", "Tickets", str(t.issued)),
        ("Đã phục vụ", "Served", str(t.served)),
        ("Vắng mặt", "No-show", str(t.noshow)),
        ("Chờ trung bình", "Mean wait", f"{_fmt(t.wait_mean_min)} ph"),
        ("Chờ p90", "p90 wait", f"{_fmt(t.wait_p90_min)} ph"),
        ("Hài lòng", "Satisfied", f"{_fmt(satisfied)} %" if show_ratings else "–"),
    ]
    box_w = (inner - 5 * 12) / len(boxes)
    for i, (vi, en, value) in enumerate(boxes):
        x = MARGIN + i * (box_w + 12)
        draw.rounded_rectangle([x, y, x + box_w, y + 118], radius=10, fill=(244, 246, 248))
        _text(draw, (x + 14, y + 12), vi, 19, bold=True)
        _text(draw, (x + 14, y + 36), en, 15, GREY)
        _text(draw, (x + 14, y + 62), _fit(draw, value, 34, box_w - 24, True), 34, P90, bold=True)
    y += 150

    # Waits per service.
    y = _heading(draw, y, "Thời gian chờ theo lĩnh vực (phút)", "Waiting time by service (minutes)")
    bar_x = MARGIN + LABEL_W
    bar_w = inner - LABEL_W - 150
    top = _scale_max([s.wait_max_min or 0 for s in figures.services] + [target_min or 0])
    for s in figures.services:
        label = _fit(draw, f"{s.code} · {s.name}", 19, LABEL_W - 16)
        _text(draw, (MARGIN, y + 2), label, 19)
        _text(draw, (MARGIN, y + 26), f"{s.issued} phiếu", 15, GREY)
        for row, (value, colour) in enumerate(((s.wait_mean_min, MEAN), (s.wait_p90_min, P90))):
            length = (value or 0) / top * bar_w
            yy = y + 4 + row * 20
            draw.rectangle([bar_x, yy, bar_x + max(1, length), yy + 16], fill=colour)
            _text(draw, (bar_x + length + 8, yy - 1), _fmt(value), 15, GREY)
        if s.wait_max_min is not None:
            mx = bar_x + s.wait_max_min / top * bar_w
            draw.line([(mx, y), (mx, y + 44)], fill=INK, width=2)
        y += 56
    if target_min is not None:
        tx = bar_x + target_min / top * bar_w
        for dash in range(int(y - 56 * len(figures.services)), int(y), 12):
            draw.line([(tx, dash), (tx, dash + 6)], fill=TARGET, width=2)
    legend = [(MEAN, "trung bình / mean"), (P90, "p90"), (INK, "tối đa / max")]
    if target_min is not None:
        legend.append((TARGET, f"mục tiêu p90 / p90 target {target_min:g}".replace(".", ",")))
    x = bar_x
    for colour, words in legend:
        draw.rectangle([x, y + 4, x + 16, y + 20], fill=colour)
        x += 24 + _text(draw, (x + 24, y + 2), words, 16, GREY) + 28
    y += 44

    # Tickets per hour, stacked by service.
    y = _heading(draw, y, "Số phiếu theo giờ", "Tickets issued per hour")
    hours = list(figures.per_hour)
    if hours:
        hours = list(range(min(hours), max(hours) + 1))
        chart_h = 220
        most = _scale_max([sum(figures.per_hour.get(h, {}).values()) for h in hours])
        col_w = min(80, (inner - 60) / len(hours))
        colours = {s.code: SERVICE_COLOURS[i % len(SERVICE_COLOURS)] for i, s in enumerate(figures.services)}
        base = y + chart_h
        for i, hour in enumerate(hours):
            x = MARGIN + 60 + i * col_w
            stack = base
            for code, n in figures.per_hour.get(hour, {}).items():
                h = n / most * chart_h
                draw.rectangle([x + 4, stack - h, x + col_w - 4, stack], fill=colours.get(code, GREY))
                stack -= h
            total = sum(figures.per_hour.get(hour, {}).values())
            if total:
                _text(draw, (x + col_w / 2, stack - 4), str(total), 15, GREY, anchor="md")
            _text(draw, (x + col_w / 2, base + 8), f"{hour}h", 16, GREY, anchor="ma")
        draw.line([(MARGIN + 60, base), (PAGE_W - MARGIN, base)], fill=INK, width=1)
        _text(draw, (MARGIN + 50, y), str(int(most)), 15, GREY, anchor="ra")
        y = base + 40
        x = MARGIN
        for s in figures.services:
            width = 24 + draw.textlength(s.code, font=pil_font(16)) + 22
            if x + width > PAGE_W - MARGIN:
                x, y = MARGIN, y + 26
            draw.rectangle([x, y + 3, x + 16, y + 19], fill=colours[s.code])
            _text(draw, (x + 22, y + 1), s.code, 16, GREY)
            x += width
        y += 40

    # Counters: busy and idle.
    y = _heading(draw, y, "Quầy: thời gian bận và thời gian trống (phút)",
                 "Counters: busy and idle time (minutes)")
    longest = _scale_max([c.busy_min + c.idle_min for c in figures.counters])
    for c in figures.counters:
        _text(draw, (MARGIN, y + 2), _fit(draw, c.name, 19, LABEL_W - 16), 19)
        busy = c.busy_min / longest * bar_w
        idle = c.idle_min / longest * bar_w
        draw.rectangle([bar_x, y + 4, bar_x + max(1, busy), y + 24], fill=BUSY)
        draw.rectangle([bar_x + busy, y + 4, bar_x + busy + idle, y + 24], fill=IDLE)
        share = f"{c.utilisation * 100:.0f} % bận" if c.utilisation is not None else ""
        _text(draw, (bar_x + busy + idle + 8, y + 4), f"{c.served} phiếu  {share}", 15, GREY)
        y += 34
    x = bar_x
    for colour, words in ((BUSY, "bận / busy"), (IDLE, "trống / idle")):
        draw.rectangle([x, y + 4, x + 16, y + 20], fill=colour)
        x += 24 + _text(draw, (x + 24, y + 2), words, 16, GREY) + 28
    y += 44

    if show_ratings:
        y = _heading(draw, y, "Mức độ hài lòng của người dân", "Citizens' satisfaction votes")
        if votes == 0:
            _text(draw, (MARGIN, y), "Chưa có phiếu đánh giá. / No votes yet.", 19, GREY)
            y += 40
        for level in sorted(RATINGS, reverse=True) if votes else []:
            n = t.ratings.get(level, 0)
            vi, en = RATINGS[level]
            _text(draw, (MARGIN, y), vi, 19)
            _text(draw, (MARGIN, y + 24), en, 15, GREY)
            length = n / votes * bar_w
            draw.rectangle([bar_x, y + 8, bar_x + max(1, length), y + 32], fill=RATING_COLOURS[level])
            _text(draw, (bar_x + length + 8, y + 10), f"{n}  ({n / votes * 100:.0f} %)", 15, GREY)
            y += 50
        y += 10

    if plan is not None:
        target = f"{target_min:g}".replace(".", ",") if target_min is not None else "–"
        y = _heading(draw, y, f"Số quầy cần để 90 % người dân chờ không quá {target} phút",
                     f"Counters needed to keep the p90 wait under {target} minutes (Erlang C, peak hour)")
        columns = [(MARGIN, "Lĩnh vực / Service"), (MARGIN + 470, "Quầy hiện có / Now"),
                   (MARGIN + 700, "Cần / Needed"), (MARGIN + 880, "Giờ cao điểm / Peak")]
        for x, head in columns:
            _text(draw, (x, y), head, 16, GREY, bold=True)
        y += 30
        for row in plan:
            needed = "–" if row.needed is None else str(row.needed)
            short = row.needed is not None and row.needed > row.first_choice
            _text(draw, (MARGIN, y), _fit(draw, f"{row.code} · {names.get(row.code, row.code)}", 18, 460), 18)
            _text(draw, (MARGIN + 470, y), f"{row.counters_now} ({row.first_choice} chính)", 18)
            _text(draw, (MARGIN + 700, y), needed, 18, TARGET if short else INK, bold=short)
            _text(draw, (MARGIN + 880, y), f"{row.peak_hour}  {row.peak_per_hour:.0f} phiếu/giờ", 18, GREY)
            y += 30
        for line in ("Hiện có: số quầy phục vụ lĩnh vực (trong ngoặc: quầy ưu tiên lĩnh vực này trước).",
                     "Cần: số quầy chỉ phục vụ lĩnh vực đó, ở giờ đông nhất (M/M/c, Erlang C).",
                     "Now: counters serving it (in brackets: serving it first). Needed: counters "
                     "serving only it, at its busiest hour."):
            y += 4
            _text(draw, (MARGIN, y), line, 15, GREY)
            y += 20
        y += 10

    image = image.crop((0, 0, PAGE_W, int(y + MARGIN)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


# --------------------------------------------------------------------------- the database


def _parse_day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD; got {text!r}") from None


def load_days(db: sqlite3.Connection, first: str, last: str) -> tuple[list[Visit], list[Stint]]:
    """Visits and counter stints of the days `first`..`last` from the dispatcher's tables."""
    visits: dict[int, Visit] = {}
    for row in db.execute(
        "SELECT id, day, number, issued_service, issued_at, called_at, finished_at, status, counter,"
        " rating FROM tickets WHERE day BETWEEN ? AND ? ORDER BY id",
        (first, last),
    ):
        visits[row[0]] = Visit(
            ticket=row[0], day=row[1], number=row[2], service=row[3], issued_at=row[4],
            served_from=row[5], finished_at=row[6], status=row[7], counter=row[8], rating=row[9],
        )
    stints: list[Stint] = []
    open_stint: dict[int, tuple[int, float]] = {}
    last_at: dict[str, float] = defaultdict(float)
    if visits:
        marks = (min(visits), max(visits))
        rows = db.execute(
            "SELECT ticket, at, event, counter FROM ticket_log WHERE ticket BETWEEN ? AND ?"
            " ORDER BY rowid",
            marks,
        ).fetchall()
    else:
        rows = []
    for ticket, at, event, counter in rows:
        visit = visits.get(ticket)
        if visit is None:
            continue
        last_at[visit.day] = max(last_at[visit.day], at)
        if event == "called":
            if visit.called_at is None:
                visit.called_at = at
            open_stint[ticket] = (counter, at)
        elif event in ("served", "noshow", "requeued", "transferred") and ticket in open_stint:
            where, start = open_stint.pop(ticket)
            stints.append(Stint(where, ticket, start, at, visit.day))
    for ticket, (where, start) in open_stint.items():
        day = visits[ticket].day
        stints.append(Stint(where, ticket, start, max(start, last_at[day]), day))
    return list(visits.values()), stints


def report_figures(db_path: Path, first: str, last: str, site: SiteConfig | None) -> Figures:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        visits, stints = load_days(db, first, last)
    finally:
        db.close()
    tz = site.timezone if site else ZoneInfo(DEFAULT_TZ)
    return compute_figures(
        visits,
        stints,
        services=[(s.code, s.name) for s in site.services] if site else [],
        counters=[(c.number, c.name) for c in site.counters] if site else [],
        hour_of=lambda stamp: datetime.fromtimestamp(stamp, tz).hour,
    )


def latest_day(db_path: Path) -> str | None:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT MAX(day) FROM tickets").fetchone()[0]
    finally:
        db.close()


def _vn_date(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/var/lib/luot/luot.db"),
                        help="the dispatcher's database (default: %(default)s)")
    parser.add_argument("--site", type=Path, default=None,
                        help=f"site.toml, for service and counter names (default: {DEFAULT_SITE} if present)")
    day = "YYYY-MM-DD"
    parser.add_argument("--day", type=_parse_day, metavar=day, help="one day (default: the latest day)")
    parser.add_argument("--from", dest="first", type=_parse_day, metavar=day, help="first day of a range")
    parser.add_argument("--to", dest="last", type=_parse_day, metavar=day, help="last day of a range")
    parser.add_argument("--out", type=Path, default=Path("report"),
                        help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.day and (args.first or args.last):
        print("luot report: give either --day or --from/--to, not both")
        return 2
    if bool(args.first) != bool(args.last):
        print("luot report: --from and --to go together")
        return 2
    if args.first and args.first > args.last:
        print(f"luot report: --from {args.first} is after --to {args.last}")
        return 2
    if not args.db.is_file():
        print(f"luot report: {args.db}: no such database")
        return 2
    site = None
    site_file = args.site or (DEFAULT_SITE if DEFAULT_SITE.is_file() else None)
    if site_file is not None:
        try:
            site = load_site(site_file)
        except ConfigError as e:
            print(e.explain("luot report: configuration error: "))
            return 2
    try:
        first = args.first or args.day or latest_day(args.db)
        last = args.last or args.day or first
    except sqlite3.DatabaseError as e:
        print(f"luot report: {args.db} is not a Lượt database: {e}")
        return 2
    if first is None:
        print(f"luot report: {args.db} holds no tickets yet")
        return 2
    try:
        figures = report_figures(args.db, first, last, site)
    except sqlite3.DatabaseError as e:
        print(f"luot report: {args.db} is not a Lượt database: {e}")
        return 2
    period = _vn_date(first) if first == last else f"{_vn_date(first)} – {_vn_date(last)}"
    files = write_csv(figures, args.out)
    png = render_summary(
        args.out / "summary.png",
        figures,
        centre=site.name if site else "Lượt",
        title=f"Báo cáo hoạt động {period}",
        subtitle=f"Activity report {first}" + ("" if first == last else f" to {last}"),
        show_ratings=True,
    )
    print(f"{figures.total.issued} tickets, {figures.total.served} served, "
          f"mean wait {figures.total.wait_mean_min} min, p90 {figures.total.wait_p90_min} min")
    for path in [*files, png]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
