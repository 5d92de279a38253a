"""What the report tests share: a desk that applies commands as the dispatcher does, at the
hours a test names, and the report's CSV tables read back."""

from __future__ import annotations

import csv
import itertools
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import FakeClock

from dispatcher.queue import Effects, QueueBook
from luot import protocol as p

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_ids = itertools.count(1)


class Desk:
    """Commands applied as the dispatcher applies them, one transaction each."""

    def __init__(self, db: sqlite3.Connection, site, clock: FakeClock) -> None:
        self.db, self.site, self.clock = db, site, clock
        self.book = QueueBook(db, site)

    def at(self, hh_mm: str, device: str, op: str, **fields):
        hours, minutes = map(int, hh_mm.split(":"))
        self.clock.now = self.clock.now.replace(hour=hours, minute=minutes)
        effects = Effects()
        self.db.execute("BEGIN IMMEDIATE")
        self.book.roll_day(self.clock.now, effects)
        reply = self.book.apply(self.site.device(device), p.Command(str(next(_ids)), op, fields),
                                self.clock.now, effects)
        self.db.execute("COMMIT")
        return reply


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))
