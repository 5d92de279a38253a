"""The hub's clock (finding 8): no day rolled on a jump, no numbers from an unsynchronised boot.

A controllable wall clock, monotonic clock and synchronisation flag drive the real
`Intake` and `QueueBook` over a real SQLite file.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from helpers import FakeClock

from dispatcher.clock import JUMPED, ClockGuard
from dispatcher.intake import Incoming, Intake
from dispatcher.queue import Effects, QueueBook
from dispatcher.storage import open_database
from luot import protocol as p

MONDAY_9AM = datetime(2026, 11, 30, 9, 0)


class Hub:
    """The dispatcher's command path with a clock the test sets."""

    def __init__(self, site, path, *, synced: bool = True) -> None:
        self.site = site
        self.wall = FakeClock(MONDAY_9AM.replace(tzinfo=site.timezone))
        self.mono = 1000.0
        self.synced = synced
        self.db = open_database(path)
        self.book = QueueBook(self.db, site)
        guard = ClockGuard(synchronised=lambda: self.synced, monotonic=lambda: self.mono)
        self.guard = guard
        self.intake = Intake(self.db, self.book, site, guard)

    def advance(self, *, wall: timedelta, mono: float) -> None:
        self.wall.now += wall
        self.mono += mono

    def send(self, device: str, op: str, **fields) -> dict:
        payload = json.dumps({"id": uuid.uuid4().hex, "op": op, **fields}).encode()
        [(_, reply)] = self.intake.apply([Incoming(device, payload, None, 0, 1)], self.wall(),
                                         Effects(), lambda _o: self.db.execute("COMMIT"))
        return json.loads(reply)

    def waiting(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM tickets WHERE status = 'waiting'").fetchone()[0]


@pytest.fixture
def hub(site, tmp_path):
    made = Hub(site, tmp_path / "hub.db")
    yield made
    made.db.close()


def test_a_jump_to_sunday_and_back_expires_nothing(hub):
    assert hub.send("kiosk-1", "take", service="CT")["ok"]
    hub.advance(wall=timedelta(days=6), mono=1.0)  # a bad step of the clock, to Sunday
    refused = hub.send("kiosk-1", "take", service="CT")
    assert refused["error"] == p.CLOCK_UNSURE and hub.guard.state == JUMPED
    assert hub.waiting() == 1, "Monday's waiting ticket is not expired"
    hub.advance(wall=timedelta(days=-6), mono=1.0)  # back: still held until a technician looks
    assert hub.send("quay-1", "next", counter=1)["error"] == p.CLOCK_UNSURE
    assert hub.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE
    assert hub.send("kiosk-1", "confirm_clock")["error"] == p.FORBIDDEN
    assert hub.send("admin", "confirm_clock")["ok"]
    assert hub.send("quay-1", "next", counter=1)["ticket"]["number"] == "A001"
    assert hub.send("kiosk-1", "take", service="CT")["ticket"]["number"] == "A002"


def test_a_backward_jump_never_rolls_a_day_back(hub):
    assert hub.send("kiosk-1", "take", service="CT")["ok"]
    hub.advance(wall=timedelta(hours=-30), mono=1.0)
    assert hub.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE
    assert hub.send("admin", "confirm_clock")["ok"]  # even when confirmed, no earlier day
    assert hub.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE
    days = [r[0] for r in hub.db.execute("SELECT day FROM days ORDER BY day")]
    assert days == ["2026-11-30"] and hub.waiting() == 1


def test_time_going_on_as_it_should_rolls_the_day(hub):
    assert hub.send("kiosk-1", "take", service="CT")["ok"]
    for _ in range(24):  # a night, in steps the monotonic clock agrees with
        hub.advance(wall=timedelta(hours=1), mono=3600.0)
        hub.send("tv-1", "take", service="CT")
    assert hub.send("kiosk-1", "take", service="CT")["ticket"]["number"] == "A001"
    assert hub.db.execute("SELECT status FROM tickets WHERE day = '2026-11-30'").fetchone()[0] == "expired"


def test_no_numbers_after_boot_until_synchronised(site, tmp_path):
    hub = Hub(site, tmp_path / "boot.db", synced=False)
    assert hub.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE
    assert hub.db.execute("SELECT COUNT(*) FROM days").fetchone()[0] == 0, "no day opened"
    hub.advance(wall=timedelta(hours=5), mono=2.0)  # chrony steps the clock: the sync itself
    hub.synced = True
    assert hub.send("kiosk-1", "take", service="CT")["ticket"]["number"] == "A001"
    hub.db.close()


def test_a_restart_within_the_open_day_serves_at_once_without_sync(site, tmp_path):
    first = Hub(site, tmp_path / "day.db")
    assert first.send("kiosk-1", "take", service="CT")["ok"]
    first.db.close()
    again = Hub(site, tmp_path / "day.db", synced=False)
    again.advance(wall=timedelta(minutes=3), mono=0.0)
    assert again.send("kiosk-1", "take", service="CT")["ticket"]["number"] == "A002"
    behind = Hub(site, tmp_path / "day.db", synced=False)
    behind.advance(wall=timedelta(hours=-2), mono=0.0)  # behind what the database saw
    assert behind.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE
    again.db.close()
    behind.db.close()


def test_a_jump_of_a_confirmed_clock_is_held_though_no_server_ever_synchronised_it(site, tmp_path):
    """A hub with no time server on its LAN: trusted by the leader's confirmation, then the
    clock steps six days ahead (a wrong `date -s`, a battery clock gone mad)."""
    hub = Hub(site, tmp_path / "alone.db", synced=False)
    assert hub.send("admin", "confirm_clock")["ok"]
    assert hub.send("kiosk-1", "take", service="CT")["ok"]
    hub.advance(wall=timedelta(minutes=20), mono=1200.0)  # time going on: no jump
    assert hub.send("kiosk-1", "take", service="CT")["ok"]
    hub.advance(wall=timedelta(days=6), mono=1.0)
    assert hub.send("kiosk-1", "take", service="CT")["error"] == p.CLOCK_UNSURE and hub.guard.state == JUMPED
    assert hub.waiting() == 2, "Monday's waiting tickets are not expired"
    hub.db.close()
