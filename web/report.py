"""Today's figures for the leader to download, computed from the retained state.

The hub's full report (`luot report`, from the database, with per-counter times and
satisfaction votes) is a tool, which a role may not import; this is the live day as the
dashboard shows it: per field and in total, as CSV (UTF-8 with a BOM, so a spreadsheet
keeps the Vietnamese) and a one-page PNG.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from PIL import Image, ImageDraw

from luot.text import nfc, pil_font

COLUMNS = (
    ("code", "Mã / Code"),
    ("name", "Lĩnh vực / Field"),
    ("issued", "Đã cấp / Issued"),
    ("waiting", "Đang chờ / Waiting"),
    ("served", "Đã phục vụ / Served"),
    ("noshow", "Vắng mặt / No-show"),
    ("avg_wait_min", "Chờ TB (phút) / Mean wait (min)"),
    ("est_wait_min", "Chờ dự kiến (phút) / Expected wait (min)"),
)


def report_csv(view: dict[str, Any]) -> bytes:
    """The dashboard view's fields and totals as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"Ngày / Day: {view.get('day') or ''}", nfc(view["centre"]["name"])])
    writer.writerow([title for _, title in COLUMNS])
    for row in view["fields"]:
        writer.writerow(["" if row.get(k) is None else nfc(str(row[k])) for k, _ in COLUMNS])
    today = view["today"]
    writer.writerow(["", "Tổng / Total", today.get("issued"), today.get("waiting"), today.get("served"),
                     sum(r.get("noshow") or 0 for r in view["fields"]), today.get("avg_wait_min"), ""])
    return out.getvalue().encode("utf-8-sig")


def report_png(view: dict[str, Any], width: int = 1200) -> bytes:
    """One page: the day's totals, then a bar per field of issued, served and mean wait."""
    fields = view["fields"]
    row_h, top = 70, 230
    image = Image.new("RGB", (width, top + row_h * max(1, len(fields)) + 60), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), nfc(view["centre"]["name"]), font=pil_font(30, True), fill="#123")
    draw.text((40, 75), nfc(f"Báo cáo trong ngày {view.get('day') or ''} / Today's report"),
              font=pil_font(24), fill="#333")
    today = view["today"]
    totals = (f"Đã cấp / Issued: {today.get('issued') or 0}"
              f"    Đã phục vụ / Served: {today.get('served') or 0}"
              f"    Đang chờ / Waiting: {today.get('waiting') or 0}"
              f"    Chờ TB / Mean wait: {today.get('avg_wait_min') or '–'} phút/min")
    draw.text((40, 125), nfc(totals), font=pil_font(22), fill="#000")
    draw.text((40, 180), nfc("Lĩnh vực / Field"), font=pil_font(20, True), fill="#333")
    draw.text((520, 180), nfc("Đã cấp ▮ đã phục vụ / Issued ▮ served — chờ TB / mean wait"),
              font=pil_font(20, True), fill="#333")
    most = max([r.get("issued") or 0 for r in fields] + [1])
    span = width - 520 - 260
    for i, row in enumerate(fields):
        y = top + i * row_h
        draw.text((40, y + 8), nfc(f"{row['code']} {row['name']}"[:34]), font=pil_font(22), fill="#000")
        issued, served = row.get("issued") or 0, row.get("served") or 0
        draw.rectangle((520, y + 6, 520 + span * issued / most, y + 30), fill="#9ec5e8")
        draw.rectangle((520, y + 34, 520 + span * served / most, y + 58), fill="#2a7a3b")
        wait = row.get("avg_wait_min")
        shown = f"{issued} / {served} — {wait if wait is not None else '–'} phút"
        draw.text((width - 250, y + 18), nfc(shown), font=pil_font(20), fill="#000")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
