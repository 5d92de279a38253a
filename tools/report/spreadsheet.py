"""The figures as CSV files (UTF-8 with a byte-order mark, so a spreadsheet shows the Vietnamese)."""

from __future__ import annotations

import csv
from pathlib import Path

from luot.protocol import RATINGS
from tools.report.figures import Figures


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
