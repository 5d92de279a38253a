"""Retention on a real database: ID-card hashes gone after their day, ticket rows after a
year, the per-day figures kept; beside a live writer; repeatable."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

from dispatcher.retention import Retention, apply_retention, months_before
from dispatcher.storage import open_database

TODAY = date(2026, 12, 1)


def ticket(db: sqlite3.Connection, day: date, seq: int, *, status: str = "served", rating: int | None = None,
           wait_s: float = 600.0, service_s: float = 300.0) -> int:
    issued = datetime.combine(day, datetime.min.time()).timestamp() + 8 * 3600 + seq * 60
    called = issued + wait_s if status in ("served", "noshow", "serving") else None
    finished = called + service_s if status == "served" and called else None
    cur = db.execute(
        "INSERT INTO tickets (day, issued_service, seq, number, service, citizen, status, rank, counter,"
        " issued_at, called_at, finished_at, calls, rating)"
        " VALUES (?, 'HT', ?, ?, 'HT', ?, ?, ?, 3, ?, ?, ?, 1, ?)",
        (day.isoformat(), seq, f"B{seq:03d}", f"hash-{day}-{seq}", status, seq, issued, called, finished,
         rating))
    db.execute("INSERT INTO ticket_log (ticket, at, event) VALUES (?, ?, 'take')", (cur.lastrowid, issued))
    if called:
        db.execute("INSERT INTO calls (ticket, counter, at, recall) VALUES (?, 3, ?, 0)",
                   (cur.lastrowid, called))
    return int(cur.lastrowid or 0)


def populated(tmp_path: Path) -> sqlite3.Connection:
    db = open_database(tmp_path / "luot.db")
    old = TODAY - timedelta(days=400)
    for day in (old, TODAY - timedelta(days=2), TODAY - timedelta(days=1)):
        ticket(db, day, 1, rating=5, wait_s=600)
        ticket(db, day, 2, rating=4, wait_s=1200)
        ticket(db, day, 3, status="noshow", wait_s=300)
    ticket(db, TODAY, 1, status="serving")
    db.execute("INSERT INTO commands (device, id, at, reply) VALUES ('kiosk-1', 'old', ?, '{}')",
               (datetime.combine(TODAY - timedelta(days=40), datetime.min.time()).timestamp(),))
    db.execute("INSERT INTO commands (device, id, at, reply) VALUES ('kiosk-1', 'new', ?, '{}')",
               (datetime.combine(TODAY, datetime.min.time()).timestamp(),))
    return db


def test_the_defaults_follow_each_purpose(tmp_path: Path) -> None:
    db = populated(tmp_path)
    purged = apply_retention(db, Retention(), TODAY)
    assert purged.citizen_hashes == 9, "every finished day's hashes"
    assert purged.tickets == 3 and purged.commands == 1 and purged.days_summarised == 3
    hashes = db.execute("SELECT day, COUNT(citizen) FROM tickets GROUP BY day ORDER BY day").fetchall()
    assert [tuple(r) for r in hashes] == [("2026-11-29", 0), ("2026-11-30", 0), ("2026-12-01", 1)]
    assert db.execute("SELECT COUNT(*) FROM ticket_log WHERE ticket NOT IN (SELECT id FROM tickets)"
                      ).fetchone()[0] == 0
    figures = db.execute("SELECT * FROM daily_figures ORDER BY day").fetchall()
    assert len(figures) == 3, "every finished day, the year-old one too, summarised before its rows went"
    first = dict(figures[0])
    assert first["day"] == (TODAY - timedelta(days=400)).isoformat()
    assert (first["issued"], first["served"], first["noshow"], first["called"]) == (3, 2, 1, 3)
    assert first["wait_s_total"] == 2100 and first["wait_s_max"] == 1200 and first["service_s_total"] == 600
    assert first["ratings"] == "0,0,0,1,1"
    assert not db.execute("SELECT 1 FROM daily_figures WHERE day = ?", (TODAY.isoformat(),)).fetchone(), \
        "today is not over"

    again = apply_retention(db, Retention(), TODAY)
    assert (again.citizen_hashes, again.tickets, again.commands, again.days_summarised) == (0, 0, 0, 0)
    after = db.execute("SELECT * FROM daily_figures ORDER BY day").fetchall()
    assert [dict(r) for r in after] == [dict(r) for r in figures]


def test_a_centre_may_keep_more(tmp_path: Path) -> None:
    db = populated(tmp_path)
    purged = apply_retention(db, Retention(citizen_days=3, ticket_months=24), TODAY)
    assert purged.citizen_hashes == 3 and purged.tickets == 0
    assert db.execute("SELECT COUNT(citizen) FROM tickets").fetchone()[0] == 7


def test_months_before() -> None:
    assert months_before(date(2026, 12, 1), 12) == date(2025, 12, 1)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
