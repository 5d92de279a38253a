"""A site.toml of any number of counters, for board layouts, tests and the benchmark.

A large centre has many counters and fields with long names; the test site
has ten counters, so the layouts at 4, 12 and 30 counters need this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERVICES = (
    ("CT", 'prefix = "A"', "Chứng thực", "Certification"),
    ("HT", 'prefix = "B"', "Hộ tịch", "Civil status"),
    ("DD", "block_start = 3000", "Đất đai", "Land"),
    ("KD", 'prefix = "C"', "Đăng ký kinh doanh", "Business registration"),
    ("LD", 'prefix = "D"', "Lao động – Thương binh và Xã hội", "Labour, invalids and social affairs"),
)


def site_toml(counters: int, *, site_id: str = "test-ward", repeat: int = 1, english: bool = False,
              notice: str = "Công dân vui lòng giữ trật tự. Xin cảm ơn!",
              notice_en: str = "Please keep your ticket and wait for your number. Thank you!") -> str:
    """The text of a site file with `counters` counters, each serving two or three fields."""
    lines = [
        "[site]",
        f'id = "{site_id}"',
        'name = "Trung tâm Phục vụ hành chính công phường Thử Nghiệm"',
        'name_en = "Test Ward Public Administrative Service Centre"',
        f'notice = "{notice}"',
        f'notice_en = "{notice_en}"',
        "",
        "[hours]",
        'taking = [["00:00", "24:00"]]',
        "working_days = [1, 2, 3, 4, 5, 6, 7]",
        "",
        "[announce]",
        f"repeat = {repeat}",
        f"english = {'true' if english else 'false'}",
    ]
    for code, numbering, name, name_en in SERVICES:
        lines += [
            "", "[[services]]", f'code = "{code}"', numbering, f'name = "{name}"', f'name_en = "{name_en}"',
            "daily_cap = 999" if numbering.startswith("prefix") else "daily_cap = 900",
            f'checklist_url = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html?linhvuc={code}"',
        ]
    codes = [s[0] for s in SERVICES]
    for n in range(1, counters + 1):
        served = [codes[(n - 1) % len(codes)], codes[n % len(codes)]]
        lines += ["", "[[counters]]", f"number = {n}", f"services = {served!r}".replace("'", '"')]
    devices = [("hub", "hub"), ("admin", "admin"), ("kiosk-1", "kiosk"), ("tv-1", "display"),
               ("tv-2", "display")]
    for device_id, role in devices:
        lines += ["", "[[devices]]", f'id = "{device_id}"', f'role = "{role}"']
    for n in range(1, counters + 1):
        lines += ["", "[[devices]]", f'id = "quay-{n}"', 'role = "counter"', f"counter = {n}"]
    return "\n".join(lines) + "\n"


def write_site(folder: Path, counters: int, **options: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"site-{counters}.toml"
    path.write_text(site_toml(counters, **options), encoding="utf-8")
    return path
