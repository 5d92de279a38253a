"""Numbers per person: Hanoi's 2025 rule (two a day over every channel, one per field), the
refusal's reason on the kiosk's screen."""

from __future__ import annotations

import pytest
from helpers import SITE_FILE
from queue_rig import Book

from kiosk import texts
from luot import protocol as p
from luot.config import ConfigError, load_site

CITIZEN = "a1b2" * 16
OTHER = "c3d4" * 16


def site_with(tmp_path, queue_lines: str):
    rule = "one_ticket_per_citizen = true"
    text = SITE_FILE.read_text().replace(rule, f"{rule}\n{queue_lines}")
    path = tmp_path / "site.toml"
    path.write_text(text)
    return load_site(path)


def test_two_a_day_over_all_fields_and_one_per_field(tmp_path, clock):
    site = site_with(tmp_path, "citizen_numbers_per_day = 2\ncitizen_numbers_per_field_per_day = 1")
    book = Book(site, tmp_path / "q.db", clock)
    assert book.take("CT", citizen=CITIZEN) == "A001"
    book.call(1)
    book.do("quay-1", "done", counter=1)
    field = book.refused(p.CITIZEN_LIMIT, "kiosk-1", "take", service="CT", citizen=CITIZEN)
    vi, en = texts.refusal(field.code, field.detail)
    assert vi == "Mỗi người chỉ được lấy 1 số một ngày cho mỗi lĩnh vực. Hôm nay quý vị đã lấy số A001."
    assert "A001" in en
    assert book.take("HT", citizen=CITIZEN) == "B001", "another field"
    day = book.refused(p.CITIZEN_LIMIT, "kiosk-2", "take", service="DD", citizen=CITIZEN)
    vi, _ = texts.refusal(day.code, day.detail)
    assert vi == "Mỗi người chỉ được lấy tối đa 2 số một ngày. Hôm nay quý vị đã lấy số A001, B001."
    assert book.take("DD", citizen=OTHER) == "3001", "another person"
    assert book.take("DD") == "3002", "a number taken without a card is not counted to anyone"
    clock.advance(days=1)
    assert book.take("CT", citizen=CITIZEN) == "A001", "a new day, new numbers"


def test_without_the_limits_only_one_open_number_per_field(tmp_path, clock):
    book = Book(load_site(SITE_FILE), tmp_path / "q.db", clock)
    assert [book.take(code, citizen=CITIZEN) for code in ("CT", "HT", "DD")] == ["A001", "B001", "3001"]
    book.refused(p.DUPLICATE_CITIZEN, "kiosk-1", "take", service="CT", citizen=CITIZEN)


def test_a_limit_must_be_a_small_count(tmp_path):
    with pytest.raises(ConfigError) as e:
        site_with(tmp_path, "citizen_numbers_per_day = -1")
    assert "queue.citizen_numbers_per_day" in str(e.value)
