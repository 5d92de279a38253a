"""The dispatcher's queue rules, driven directly on QueueBook with a settable clock."""

import dataclasses
from datetime import datetime, time

import pytest
from queue_rig import MONDAY_9AM, Book

from luot import protocol as p
from luot.config import TakingHours


@pytest.fixture
def book(site, tmp_path, clock):
    return Book(site, tmp_path / "q.db", clock)


def test_each_service_has_its_own_sequence(book):
    assert [book.take("CT") for _ in range(3)] == ["A001", "A002", "A003"]
    assert book.take("HT") == "B001"
    assert [book.take("DD") for _ in range(2)] == ["3001", "3002"]


def test_the_daily_cap_refuses_and_says_so_in_state(book, clock):
    for _ in range(5):
        book.take("DD")
    book.refused(p.CAP_REACHED, "kiosk-1", "take", service="DD")
    state = book.book.service_state("DD", clock().replace(tzinfo=book.site.timezone))
    assert (state["issued"], state["remaining"], state["taking"]) == (5, 0, False)


def test_numbers_only_within_taking_hours_on_working_days(site, tmp_path, clock):
    hours = TakingHours(((time(7, 30), time(11, 30)), (time(13, 30), time(16, 30))), (1, 2, 3, 4, 5))
    book = Book(dataclasses.replace(site, hours=hours), tmp_path / "h.db", clock)
    clock.now = datetime(2026, 11, 23, 7, 0)
    book.refused(p.OUTSIDE_HOURS, "kiosk-1", "take", service="CT")
    clock.now = datetime(2026, 11, 23, 7, 30)
    assert book.take() == "A001"
    clock.now = datetime(2026, 11, 23, 12, 0)
    book.refused(p.OUTSIDE_HOURS, "kiosk-1", "take", service="CT")
    clock.now = datetime(2026, 11, 29, 9, 0)  # a Sunday: the day does not open by itself
    book.refused(p.DAY_CLOSED, "kiosk-1", "take", service="CT")


def test_closing_the_day_stops_numbers_and_opening_resumes(book):
    book.take()
    book.do("admin", "close")
    book.refused(p.DAY_CLOSED, "kiosk-1", "take", service="CT")
    assert book.call(1) == "A001", "officers still serve those already waiting"
    book.do("admin", "open")
    assert book.take() == "A002"


def test_a_new_day_restarts_numbers_and_expires_the_old_line(book, clock):
    book.take()
    book.take()
    book.call(1)
    clock.advance(days=1)
    assert book.take() == "A001"
    statuses = dict(book.db.execute("SELECT number || '@' || day, status FROM tickets").fetchall())
    assert statuses == {
        "A001@2026-11-23": "served",
        "A002@2026-11-23": "expired",
        "A001@2026-11-24": "waiting",
    }
    assert book.book.counter_state(1)["ticket"] is None


def test_priority_first_earlier_number_first_with_a_guard_for_regulars(book):
    # max_in_a_row = 2 in the test site
    regular = [book.take() for _ in range(2)]
    elderly = [book.take(priority="nguoi-cao-tuoi") for _ in range(2)]
    disabled = book.take(priority="khuyet-tat")
    assert regular == ["A001", "A002"] and elderly == ["A003", "A004"]
    order = [book.call(1) for _ in range(5)]
    assert order == ["A003", "A004", "A001", disabled, "A002"]


def test_a_requeued_citizen_waits_behind_two_not_the_whole_line(book):
    for _ in range(6):
        book.take()
    assert book.call(1) == "A001"
    book.do("quay-1", "requeue", counter=1)
    assert book.book.counter_state(1)["status"] == "idle"
    assert [book.call(1) for _ in range(5)] == ["A002", "A003", "A001", "A004", "A005"]


def test_transfer_keeps_the_number_and_the_place_earned(book):
    book.take("CT")
    book.take("HT")
    assert book.call(1) == "A001"
    moved = book.do("quay-1", "transfer", counter=1, service="HT")["ticket"]
    assert (moved["number"], moved["service"]) == ("A001", "HT")
    assert book.call(3) == "A001", "issued before B001, so called before it"
    assert book.call(3) == "B001"
    book.refused(p.UNKNOWN_SERVICE, "quay-3", "transfer", counter=3, service="ZZ")


def test_noshow_recall_done_and_empty_line(book):
    book.take()
    book.take()
    book.refused(p.NO_CURRENT_TICKET, "quay-1", "noshow", counter=1)
    assert book.call(1) == "A001"
    recalled = book.do("quay-1", "recall", counter=1)["ticket"]
    assert recalled["number"] == "A001"
    assert book.book.counter_state(1)["calls"] == 2
    assert book.call(1, "noshow") == "A002"
    book.do("quay-1", "done", counter=1)
    assert book.call(1) is None
    statuses = [r[0] for r in book.db.execute("SELECT status FROM tickets ORDER BY id")]
    assert statuses == ["noshow", "served"]


def test_pause_shows_in_state_and_next_resumes(book):
    book.take()
    book.do("quay-1", "pause", counter=1)
    assert book.book.counter_state(1)["status"] == "paused"
    assert book.book.service_state("CT", MONDAY_9AM.replace(tzinfo=book.site.timezone))[
        "open_counters"
    ] == 7  # counters 1, 2 and 5–10 serve CT; counter 1 is paused
    assert book.call(1) == "A001"
    assert book.book.counter_state(1)["status"] == "serving"


def test_one_vote_per_served_ticket(book):
    book.take()
    book.call(1)
    ticket_id = book.book.counter_state(1)["ticket"]["id"]
    book.do("quay-1", "done", counter=1)
    book.refused(p.BAD_SCHEMA, "quay-1", "rate", counter=1, ticket=ticket_id, score=9)
    book.refused(p.NOT_FOUND, "quay-2", "rate", counter=2, ticket=ticket_id, score=5)
    assert book.do("quay-1", "rate", counter=1, ticket=ticket_id, score=5)["score"] == 5
    book.refused(p.ALREADY_RATED, "quay-1", "rate", counter=1, ticket=ticket_id, score=1)


def test_roles_and_counters_are_checked(book):
    book.take()
    book.refused(p.FORBIDDEN, "kiosk-1", "next", counter=1)
    book.refused(p.FORBIDDEN, "tv-1", "take", service="CT")
    book.refused(p.FORBIDDEN, "quay-3", "next", counter=5)
    book.refused(p.FORBIDDEN, "quay-1", "close")
    book.refused(p.UNKNOWN_PRIORITY, "kiosk-1", "take", service="CT", priority="vip")
    book.refused(p.UNKNOWN_SERVICE, "kiosk-1", "take", service="ZZ")
    assert book.do("admin", "next", counter=5)["ticket"]["number"] == "A001"


def test_a_stale_press_changes_nothing(book):
    book.take()
    book.take()
    assert book.call(1) == "A001"
    current = book.book.counter_state(1)["ticket"]["id"]
    book.do("quay-1", "next", counter=1, expect=current)
    book.refused(p.STALE, "quay-1", "next", counter=1, expect=current)
    assert book.book.counter_state(1)["ticket"]["number"] == "A002"


def test_one_open_ticket_per_citizen_per_service(book):
    citizen = "5f1d" * 16
    assert book.take("CT", citizen=citizen) == "A001"
    book.refused(p.DUPLICATE_CITIZEN, "kiosk-1", "take", service="CT", citizen=citizen)
    assert book.take("HT", citizen=citizen) == "B001", "another field is another line"
    book.call(1)
    book.do("quay-1", "done", counter=1)
    assert book.take("CT", citizen=citizen) == "A002", "served, so free to take again"


def test_people_ahead_and_estimated_wait(book, clock):
    for _ in range(3):  # three served tickets of 6 minutes each at counter 1
        book.take()
        book.call(1)
        clock.advance(minutes=6)
        book.do("quay-1", "done", counter=1)
    for _ in range(7):
        book.take()
    reply = book.do("kiosk-1", "take", service="CT")
    assert reply["ahead"] == 7
    # Only counter 1 serves (the others of CT never called): it is free, so it takes the
    # first of the 7 ahead at once, and each of the other 6 and this one take 6 minutes.
    assert reply["est_wait_min"] == 42
    priority = book.do("kiosk-1", "take", service="CT", priority="nguoi-cao-tuoi")
    assert priority["ahead"] == 0
