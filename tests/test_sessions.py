"""Special sessions: a leader opens numbers outside the taking hours until a time of the day."""

from __future__ import annotations

from datetime import datetime

from helpers import FakeClock
from queue_rig import Book

from luot import EXAMPLE_SITE
from luot import protocol as p
from luot.config import load_site

SUNDAY_9AM = datetime(2026, 11, 29, 9, 0)  # the example ward does not work on Sundays


def state(book: Book) -> dict:
    return book.book.site_state(book.clock().replace(tzinfo=book.site.timezone))


def test_a_sunday_duty_gives_numbers_until_its_end_and_only_that_day(tmp_path):
    clock = FakeClock(SUNDAY_9AM)
    book = Book(load_site(EXAMPLE_SITE), tmp_path / "q.db", clock)
    book.do("admin", "open")
    book.refused(p.OUTSIDE_HOURS, "kiosk-1", "take", service="CT")
    assert state(book)["taking"] is False
    book.do("admin", "open", until="11:00")
    assert state(book)["taking"] is True
    assert book.take("CT") == "A001"
    clock.advance(minutes=119)
    assert book.take("CT") == "A002"
    clock.advance(minutes=1)
    book.refused(p.OUTSIDE_HOURS, "kiosk-1", "take", service="CT")
    assert state(book)["taking"] is False
    clock.advance(days=7)  # the next Sunday is as the site file says
    book.do("admin", "open")
    book.refused(p.OUTSIDE_HOURS, "kiosk-1", "take", service="CT")


def test_a_session_must_end_later_today(tmp_path):
    book = Book(load_site(EXAMPLE_SITE), tmp_path / "q.db", FakeClock(SUNDAY_9AM))
    book.refused(p.BAD_SCHEMA, "admin", "open", until="08:00")
    book.refused(p.BAD_SCHEMA, "admin", "open", until="noon")
    assert state(book)["taking"] is False
