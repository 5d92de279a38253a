"""The city's monthly report: every centre and the city as one, as CSV and a one-page PNG.

The figures are those a centre's own `luot report` gives for itself, rebuilt from
its journal (`city.figures`); Vietnamese first, English second.
"""

from __future__ import annotations

import calendar
import csv
import io
from datetime import date

from PIL import Image, ImageDraw

from city.figures import CentreFigures, city_total
from luot.text import nfc, pil_font

HEADS = [
    ("Trung tâm", "centre"), ("Số phiếu", "tickets"), ("Bị từ chối", "refused"),
    ("Đã phục vụ", "served"), ("Vắng mặt", "no-show"), ("Chưa phục vụ", "unserved"),
    ("Chờ TB, phút", "wait mean, min"), ("Chờ p90, phút", "wait p90, min"),
    ("Phục vụ TB, phút", "service mean, min"), ("Hài lòng, %", "satisfied, %"),
]
SHORT_HEADS = [
    ("Trung tâm", "centre"), ("Số phiếu", "tickets"), ("Từ chối", "refused"), ("Phục vụ", "served"),
    ("Vắng mặt", "no-show"), ("Chưa PV", "unserved"), ("Chờ TB", "wait, min"), ("Chờ p90", "p90, min"),
    ("PV TB", "service, min"), ("Hài lòng", "satisfied %"),
]
INK, GREY, RULE, BAND = (33, 37, 41), (108, 117, 125), (222, 226, 230), (244, 246, 248)


def month_days(month: str) -> tuple[str, str]:
    """`2026-11` → ("2026-11-01", "2026-11-30"); ValueError for anything else."""
    first = date.fromisoformat(month + "-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first.isoformat(), last.isoformat()


def _row(f: CentreFigures, name: str) -> list[object]:
    return [name, f.issued, f.refused, f.served, f.noshow, f.unserved, f.wait_mean_min, f.wait_p90_min,
            f.service_mean_min, f.satisfied]


def rows(figures: dict[str, CentreFigures]) -> list[list[object]]:
    """One row per centre, then the city ("Toàn thành phố")."""
    return [_row(f, hub) for hub, f in figures.items()] + [_row(city_total(figures), "Toàn thành phố")]


def monthly_csv(figures: dict[str, CentreFigures]) -> bytes:
    """UTF-8 with a byte-order mark, so a spreadsheet shows the Vietnamese."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([f"{vi} ({en})" for vi, en in HEADS])
    for row in rows(figures):
        w.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8-sig")


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def monthly_png(figures: dict[str, CentreFigures], month: str, city_name: str) -> bytes:
    """A one-page summary: the city's key figures, then a table of the centres."""
    table = rows(figures)
    width, margin, row_h = 1240, 48, 34
    height = 330 + row_h * (len(table) + 1) + margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def text(xy: tuple[float, float], s: str, size: int, colour: tuple[int, int, int] = INK,
             bold: bool = False, anchor: str = "la") -> None:
        draw.text(xy, nfc(s), font=pil_font(size, bold), fill=colour, anchor=anchor)

    text((margin, 36), city_name, 24, GREY)
    text((margin, 70), f"Báo cáo tháng {month[5:]}/{month[:4]}", 40, bold=True)
    text((margin, 122), f"Monthly report, {month} · {len(figures)} trung tâm / centres", 20, GREY)
    total = city_total(figures)
    boxes = [("Số phiếu", "Tickets", _fmt(total.issued)), ("Đã phục vụ", "Served", _fmt(total.served)),
             ("Chờ TB", "Mean wait", _fmt(total.wait_mean_min) + " ph"),
             ("Chờ p90", "p90 wait", _fmt(total.wait_p90_min) + " ph"),
             ("Hài lòng", "Satisfied", _fmt(total.satisfied) + " %")]
    box_w = (width - 2 * margin - 4 * 12) / len(boxes)
    for i, (vi, en, value) in enumerate(boxes):
        x = margin + i * (box_w + 12)
        draw.rounded_rectangle([x, 166, x + box_w, 280], radius=10, fill=BAND)
        text((x + 14, 178), vi, 19, bold=True)
        text((x + 14, 202), en, 15, GREY)
        text((x + 14, 228), value, 32, (24, 92, 170), bold=True)
    columns = [margin, 300, 395, 490, 590, 690, 800, 900, 1000, 1110]
    y = 310
    for x, (vi, en) in zip(columns, SHORT_HEADS, strict=True):
        text((x, y), vi, 14, bold=True)
        text((x, y + 16), en, 12, GREY)
    y += row_h + 8
    for i, row in enumerate(table):
        if i == len(table) - 1:
            draw.line([(margin, y - 4), (width - margin, y - 4)], fill=INK, width=2)
        elif i % 2:
            draw.rectangle([margin - 6, y - 4, width - margin, y + row_h - 8], fill=BAND)
        for x, value in zip(columns, row, strict=True):
            text((x, y), _fmt(value), 17, bold=i == len(table) - 1)
        y += row_h
    draw.line([(margin, y), (width - margin, y)], fill=RULE, width=1)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
