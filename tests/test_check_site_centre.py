"""`luot check-site` on what each file says well but the centre as a whole cannot work with."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_site_rig import check, write
from helpers import SITE_FILE

LAND = 'code = "DD"\nblock_start = 3000'
ADJACENT = (
    '\n[[services]]\ncode = "XD"\nblock_start = 3005\nname = "Xây dựng"\nname_en = "Construction"\n'
    'daily_cap = 10\nchecklist_url = "https://dichvucong.gov.vn/"\n'
)


def test_adjacent_number_blocks_do_not_overlap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """DD gives 3001–3005 (daily_cap 5); XD from 3005 gives 3006–3015: they touch, nothing shared."""
    text = SITE_FILE.read_text().replace("[[counters]]", ADJACENT + "\n[[counters]]", 1)
    text = text.replace('services = ["CT"]', 'services = ["CT", "XD"]', 1)
    code, out = check(capsys, write(tmp_path, "site.toml", text))
    assert code == 0, out
    shared = text.replace("block_start = 3005", "block_start = 3004")
    code, out = check(capsys, write(tmp_path, "shared.toml", shared))
    assert code == 2 and "numbers 3005–3014 overlap service DD's block" in out


def test_a_field_no_counter_serves_is_a_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SITE_FILE.read_text().replace("[[counters]]", ADJACENT + "\n[[counters]]", 1)
    code, out = check(capsys, write(tmp_path, "site.toml", text))
    assert code == 2 and "services: XD (Xây dựng): no counter serves it" in out


def test_overlapping_taking_periods_are_a_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SITE_FILE.read_text().replace('taking = [["00:00", "24:00"]]',
                                         'taking = [["07:30", "11:30"], ["11:00", "16:30"]]')
    code, out = check(capsys, write(tmp_path, "site.toml", text))
    assert code == 2 and "hours.taking: 07:30–11:30 and 11:00–16:30 overlap" in out


def test_a_display_of_an_unknown_counter_or_field_is_a_mistake(devices: dict[str, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = devices["tv-1"]
    shows = 'kind = "tv"\ncounters = [1, 12]\nservices = ["CT", "QQ"]'
    path.write_text(path.read_text().replace('kind = "tv"', shows))
    code, out = check(capsys, SITE_FILE, path)
    assert code == 2
    assert "display.counters: " in out and "has no counter 12" in out
    assert "display.services: " in out and "has no service 'QQ'" in out


def test_a_mistake_in_a_counter_names_the_counter_too(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    text = SITE_FILE.read_text().replace('number = 10\nservices = ["CT", "HT", "DD"]',
                                         'number = 10\nservices = ["CT", "HT", "ZZ"]')
    code, out = check(capsys, write(tmp_path, "site.toml", text))
    assert code == 2 and "counters[9] (quầy 10).services[2]: unknown service 'ZZ'" in out, out
