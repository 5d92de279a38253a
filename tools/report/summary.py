"""The one-page PNG summary of a day's figures, Vietnamese first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from luot.protocol import RATINGS
from luot.stats import satisfied_pct
from luot.text import pil_font
from tools.report.figures import Figures
from tools.report.page import (
    BUSY,
    GREY,
    IDLE,
    INK,
    LABEL_W,
    MARGIN,
    MEAN,
    P90,
    PAGE_W,
    RATING_COLOURS,
    SERVICE_COLOURS,
    TARGET,
    draw_text,
    fit_text,
    fmt,
    heading,
    scale_max,
)

# A section of the page: draws from height y, returns the height below it.
Section = Callable[[ImageDraw.ImageDraw, float], float]


def render_summary(path: Path, figures: Figures, *, centre: str, title: str, subtitle: str,
                   show_ratings: bool, target_min: float | None = None,
                   sections: tuple[Section, ...] = ()) -> Path:
    """One page (A4 width at 150 dpi): key figures, waits, tickets per hour, counters, votes,
    then each of `sections` (the simulator's plan) drawn from the height it is given."""
    image = Image.new("RGB", (PAGE_W, 4000), "white")
    draw = ImageDraw.Draw(image)
    inner = PAGE_W - 2 * MARGIN

    draw_text(draw, (MARGIN, 40), fit_text(draw, centre, 24, inner), 24, GREY)
    draw_text(draw, (MARGIN, 76), fit_text(draw, title, 40, inner, True), 40, bold=True)
    draw_text(draw, (MARGIN, 130), subtitle, 22, GREY)
    y = 180.0

    t = figures.total
    votes = sum(t.ratings.values())
    satisfied = satisfied_pct(t.ratings)
    boxes = [
        ("Số phiếu", "Tickets", str(t.issued)),
        ("Đã phục vụ", "Served", str(t.served)),
        ("Vắng mặt", "No-show", str(t.noshow)),
        ("Chờ trung bình", "Mean wait", f"{fmt(t.wait_mean_min)} ph"),
        ("Chờ p90", "p90 wait", f"{fmt(t.wait_p90_min)} ph"),
        ("Hài lòng", "Satisfied", f"{fmt(satisfied)} %" if show_ratings else "–"),
    ]
    box_w = (inner - 5 * 12) / len(boxes)
    for i, (vi, en, value) in enumerate(boxes):
        x = MARGIN + i * (box_w + 12)
        draw.rounded_rectangle([x, y, x + box_w, y + 118], radius=10, fill=(244, 246, 248))
        draw_text(draw, (x + 14, y + 12), vi, 19, bold=True)
        draw_text(draw, (x + 14, y + 36), en, 15, GREY)
        draw_text(draw, (x + 14, y + 62), fit_text(draw, value, 34, box_w - 24, True), 34, P90, bold=True)
    y += 150

    # Waits per service.
    y = heading(draw, y, "Thời gian chờ theo lĩnh vực (phút)", "Waiting time by service (minutes)")
    bar_x = MARGIN + LABEL_W
    bar_w = inner - LABEL_W - 150
    top = scale_max([s.wait_max_min or 0 for s in figures.services] + [target_min or 0])
    for s in figures.services:
        label = fit_text(draw, f"{s.code} · {s.name}", 19, LABEL_W - 16)
        draw_text(draw, (MARGIN, y + 2), label, 19)
        draw_text(draw, (MARGIN, y + 26), f"{s.issued} phiếu", 15, GREY)
        for row, (value, colour) in enumerate(((s.wait_mean_min, MEAN), (s.wait_p90_min, P90))):
            length = (value or 0) / top * bar_w
            yy = y + 4 + row * 20
            draw.rectangle([bar_x, yy, bar_x + max(1, length), yy + 16], fill=colour)
            draw_text(draw, (bar_x + length + 8, yy - 1), fmt(value), 15, GREY)
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
        x += 24 + draw_text(draw, (x + 24, y + 2), words, 16, GREY) + 28
    y += 44

    # Tickets per hour, stacked by service.
    y = heading(draw, y, "Số phiếu theo giờ", "Tickets issued per hour")
    hours = list(figures.per_hour)
    if hours:
        hours = list(range(min(hours), max(hours) + 1))
        chart_h = 220
        most = scale_max([sum(figures.per_hour.get(h, {}).values()) for h in hours])
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
                draw_text(draw, (x + col_w / 2, stack - 4), str(total), 15, GREY, anchor="md")
            draw_text(draw, (x + col_w / 2, base + 8), f"{hour}h", 16, GREY, anchor="ma")
        draw.line([(MARGIN + 60, base), (PAGE_W - MARGIN, base)], fill=INK, width=1)
        draw_text(draw, (MARGIN + 50, y), str(int(most)), 15, GREY, anchor="ra")
        y = base + 40
        x = MARGIN
        for s in figures.services:
            width = 24 + draw.textlength(s.code, font=pil_font(16)) + 22
            if x + width > PAGE_W - MARGIN:
                x, y = MARGIN, y + 26
            draw.rectangle([x, y + 3, x + 16, y + 19], fill=colours[s.code])
            draw_text(draw, (x + 22, y + 1), s.code, 16, GREY)
            x += width
        y += 40

    # Counters: busy and idle.
    y = heading(draw, y, "Quầy: thời gian bận và thời gian trống (phút)",
                 "Counters: busy and idle time (minutes)")
    longest = scale_max([c.busy_min + c.idle_min for c in figures.counters])
    for c in figures.counters:
        draw_text(draw, (MARGIN, y + 2), fit_text(draw, c.name, 19, LABEL_W - 16), 19)
        busy = c.busy_min / longest * bar_w
        idle = c.idle_min / longest * bar_w
        draw.rectangle([bar_x, y + 4, bar_x + max(1, busy), y + 24], fill=BUSY)
        draw.rectangle([bar_x + busy, y + 4, bar_x + busy + idle, y + 24], fill=IDLE)
        share = f"{c.utilisation * 100:.0f} % bận" if c.utilisation is not None else ""
        draw_text(draw, (bar_x + busy + idle + 8, y + 4), f"{c.served} phiếu  {share}", 15, GREY)
        y += 34
    x = bar_x
    for colour, words in ((BUSY, "bận / busy"), (IDLE, "trống / idle")):
        draw.rectangle([x, y + 4, x + 16, y + 20], fill=colour)
        x += 24 + draw_text(draw, (x + 24, y + 2), words, 16, GREY) + 28
    y += 44

    if show_ratings:
        y = heading(draw, y, "Mức độ hài lòng của người dân", "Citizens' satisfaction votes")
        if votes == 0:
            draw_text(draw, (MARGIN, y), "Chưa có phiếu đánh giá. / No votes yet.", 19, GREY)
            y += 40
        for level in sorted(RATINGS, reverse=True) if votes else []:
            n = t.ratings.get(level, 0)
            vi, en = RATINGS[level]
            draw_text(draw, (MARGIN, y), vi, 19)
            draw_text(draw, (MARGIN, y + 24), en, 15, GREY)
            length = n / votes * bar_w
            draw.rectangle([bar_x, y + 8, bar_x + max(1, length), y + 32], fill=RATING_COLOURS[level])
            draw_text(draw, (bar_x + length + 8, y + 10), f"{n}  ({n / votes * 100:.0f} %)", 15, GREY)
            y += 50
        y += 10

    for section in sections:
        y = section(draw, y)

    image = image.crop((0, 0, PAGE_W, int(y + MARGIN)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
