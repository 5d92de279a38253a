"""What the queue looks like: tickets, estimates and the retained state, read from SQLite.

Everything published is computed here from the database, so the retained
state is a pure function of it (and of the clock, for whether numbers may be
taken now).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from dispatcher.epoch import database_epoch
from dispatcher.estimate import estimate_minutes
from dispatcher.sessions import in_session
from luot.config import SiteConfig

RECENT_SERVICE_TIMES = 20


class QueueViews:
    """Read-only queries over the queue's tables; `QueueBook` adds the commands."""

    def __init__(self, db: sqlite3.Connection, site: SiteConfig) -> None:
        self.db = db
        self.site = site
        self.epoch = database_epoch(db)

    def day_of(self, now: datetime) -> str:
        return now.astimezone(self.site.timezone).date().isoformat()

    def is_open(self, day: str) -> bool:
        row = self.db.execute("SELECT closed_at FROM days WHERE day = ?", (day,)).fetchone()
        return row is not None and row["closed_at"] is None

    def in_hours(self, now: datetime) -> bool:
        """Inside the site's taking hours, or a special session the leaders opened."""
        return (self.site.hours.is_taking(now.astimezone(self.site.timezone))
                or in_session(self.db, self.day_of(now), now))

    # ------------------------------------------------------------------ reading

    def _ticket(self, ticket_id: int | None) -> sqlite3.Row:
        return self.db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()

    def _serving(self, counter: int) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM tickets WHERE counter = ? AND status = 'serving'", (counter,)
        ).fetchone()

    def _ahead(self, ticket: sqlite3.Row) -> int:
        """People in the same line who will be called before this ticket."""
        only_priority = " AND priority IS NOT NULL" if ticket["priority"] else ""
        return self.db.execute(
            "SELECT COUNT(*) FROM tickets WHERE day = ? AND service = ? AND status = 'waiting'"
            f" AND rank < ?{only_priority}",
            (ticket["day"], ticket["service"], ticket["rank"]),
        ).fetchone()[0]

    def _local(self, stamp: float | None) -> str | None:
        if stamp is None:
            return None
        return datetime.fromtimestamp(stamp, self.site.timezone).isoformat(timespec="seconds")

    def ticket_view(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "number": row["number"],
            "service": row["service"],
            "issued_service": row["issued_service"],
            "priority": row["priority"],
            "issued_at": self._local(row["issued_at"]),
            "day": row["day"],
        }

    def _service_minutes(self, code: str, day: str) -> float:
        """Mean service time of the last tickets served in this line, else the catalogue's."""
        rows = self.db.execute(
            "SELECT finished_at - called_at FROM tickets WHERE day = ? AND service = ?"
            " AND status = 'served' AND finished_at IS NOT NULL AND called_at IS NOT NULL"
            " ORDER BY finished_at DESC LIMIT ?",
            (day, code, RECENT_SERVICE_TIMES),
        ).fetchall()
        service = self.site.service(code)
        assert service is not None
        if len(rows) < 3:
            return service.avg_service_min
        return max(0.5, sum(r[0] for r in rows) / len(rows) / 60)

    def _open_counters(self, code: str) -> int:
        numbers = [c.number for c in self.site.counters if code in c.services]
        if not numbers:
            return 0
        marks = ",".join("?" * len(numbers))
        return self.db.execute(
            f"SELECT COUNT(*) FROM counters WHERE paused = 0 AND number IN ({marks})", numbers
        ).fetchone()[0]

    def _estimate_min(self, code: str, now: datetime, ahead: int) -> int | None:
        """Minutes until a ticket with `ahead` people before it is called; None if nobody serves."""
        return estimate_minutes(self.db, self.site, code, now.timestamp(), ahead,
                                self._service_minutes(code, self.day_of(now)))

    # ------------------------------------------------------------------ retained state

    def counter_state(self, number: int) -> dict[str, Any]:
        counter = self.site.counter(number)
        assert counter is not None
        paused = self.db.execute(
            "SELECT paused FROM counters WHERE number = ?", (number,)
        ).fetchone()[0]
        current = self._serving(number)
        last_call = self.db.execute(
            "SELECT MAX(seq) FROM calls WHERE counter = ?", (number,)
        ).fetchone()[0]
        if paused:
            status = "paused"
        else:
            status = "serving" if current is not None else "idle"
        return {
            "counter": number,
            "name": counter.name,
            "services": list(counter.services),
            "status": status,
            "ticket": self.ticket_view(current) if current else None,
            "called_at": self._local(current["called_at"]) if current else None,
            "calls": current["calls"] if current else 0,
            "call_seq": last_call or 0,
        }

    def service_state(self, code: str, now: datetime) -> dict[str, Any]:
        service = self.site.service(code)
        assert service is not None
        day = self.day_of(now)
        row = self.db.execute(
            "SELECT"
            " SUM(status = 'waiting') AS waiting,"
            " SUM(status = 'waiting' AND priority IS NOT NULL) AS waiting_priority,"
            " SUM(status = 'served') AS served,"
            " SUM(status = 'noshow') AS noshow,"
            " AVG(called_at - issued_at) AS avg_wait_s"
            " FROM tickets WHERE day = ? AND service = ?",
            (day, code),
        ).fetchone()
        issued = self.db.execute(
            "SELECT MAX(seq) FROM tickets WHERE day = ? AND issued_service = ?", (day, code)
        ).fetchone()[0] or 0
        waiting = row["waiting"] or 0
        taking = (
            self.is_open(day)
            and self.in_hours(now)
            and issued < service.daily_cap
        )
        return {
            "service": code,
            "waiting": waiting,
            "waiting_priority": row["waiting_priority"] or 0,
            "issued": issued,
            "last_issued": service.number(issued) if issued else None,
            "served": row["served"] or 0,
            "noshow": row["noshow"] or 0,
            "cap": service.daily_cap,
            "remaining": service.daily_cap - issued,
            "taking": taking,
            "open_counters": self._open_counters(code),
            "est_wait_min": self._estimate_min(code, now, waiting),
            "avg_wait_min": round(row["avg_wait_s"] / 60, 1) if row["avg_wait_s"] else None,
        }

    def site_state(self, now: datetime) -> dict[str, Any]:
        day = self.day_of(now)
        row = self.db.execute(
            "SELECT COUNT(*) AS issued, SUM(status = 'waiting') AS waiting,"
            " SUM(status = 'served') AS served,"
            " AVG(called_at - issued_at) AS avg_wait_s"
            " FROM tickets WHERE day = ?",
            (day,),
        ).fetchone()
        is_open = self.is_open(day)
        return {
            "day": day,
            "epoch": self.epoch,
            "open": is_open,
            "taking": is_open and self.in_hours(now),
            "issued": row["issued"],
            "waiting": row["waiting"] or 0,
            "served": row["served"] or 0,
            "avg_wait_min": round(row["avg_wait_s"] / 60, 1) if row["avg_wait_s"] else None,
        }

    def call_event(self, seq: int) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM calls WHERE seq = ?", (seq,)).fetchone()
        ticket = self._ticket(row["ticket"])
        counter = self.site.counter(row["counter"])
        assert counter is not None
        return {
            "seq": seq,
            "epoch": self.epoch,
            "counter": row["counter"],
            "counter_name": counter.name,
            "ticket": self.ticket_view(ticket),
            "recall": bool(row["recall"]),
            "calls": ticket["calls"],
            "at": self._local(row["at"]),
        }
