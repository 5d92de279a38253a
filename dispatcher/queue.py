"""The queue authority: every decision about numbers and calls, kept in SQLite.

`QueueBook` applies one command inside the caller's transaction and records
which retained topics it touched; `dispatcher.service` commits a batch and only
then replies and publishes. Everything published is computed here from the
database, so the retained state is a pure function of it (and of the clock,
for whether numbers may be taken now).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from luot import protocol as p
from luot.config import Counter, DeviceEntry, SiteConfig

SCHEMA = """
CREATE TABLE IF NOT EXISTS days (
    day TEXT PRIMARY KEY,
    opened_at REAL NOT NULL,
    closed_at REAL
);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    issued_service TEXT NOT NULL,   -- the service whose sequence gave the number
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    service TEXT NOT NULL,          -- the queue it waits in now (differs after a transfer)
    priority TEXT,
    citizen TEXT,                   -- salted hash of the ID number, never the number itself
    status TEXT NOT NULL CHECK (status IN ('waiting', 'serving', 'served', 'noshow', 'expired')),
    rank REAL NOT NULL,             -- order in line; a requeue slots between two ranks
    counter INTEGER,
    issued_at REAL NOT NULL,
    called_at REAL,
    finished_at REAL,
    calls INTEGER NOT NULL DEFAULT 0,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    UNIQUE (day, issued_service, seq),
    UNIQUE (day, number)
);
CREATE UNIQUE INDEX IF NOT EXISTS one_ticket_per_counter
    ON tickets (counter) WHERE status = 'serving';
CREATE INDEX IF NOT EXISTS waiting_line ON tickets (day, service, status, rank);
-- Covers the day's figures of state/site: they are read from the index, not the rows.
CREATE INDEX IF NOT EXISTS day_figures ON tickets (day, status, called_at, issued_at);

CREATE TABLE IF NOT EXISTS counters (
    number INTEGER PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    priority_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY,
    ticket INTEGER NOT NULL REFERENCES tickets (id),
    counter INTEGER NOT NULL,
    at REAL NOT NULL,
    recall INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ticket_log (
    ticket INTEGER NOT NULL REFERENCES tickets (id),
    at REAL NOT NULL,
    event TEXT NOT NULL,
    counter INTEGER,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    device TEXT NOT NULL,
    id TEXT NOT NULL,
    at REAL NOT NULL,
    reply TEXT NOT NULL,
    PRIMARY KEY (device, id)
) WITHOUT ROWID;
"""

COUNTER_OPS = frozenset(
    {"next", "recall", "noshow", "done", "requeue", "transfer", "pause", "resume", "rate"}
)
RECENT_SERVICE_TIMES = 20


def open_database(path: str | Path) -> sqlite3.Connection:
    """SQLite in WAL mode with synchronous=FULL: a commit survives a power cut."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(SCHEMA)
    return db


@dataclass
class Effects:
    """What a batch of commands changed, to publish once it is committed."""

    counters: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    site: bool = False
    calls: list[int] = field(default_factory=list)

    def everything(self, site: SiteConfig) -> None:
        self.counters.update(c.number for c in site.counters)
        self.services.update(s.code for s in site.services)
        self.site = True


class QueueBook:
    def __init__(self, db: sqlite3.Connection, site: SiteConfig) -> None:
        self.db = db
        self.site = site
        for c in site.counters:
            db.execute("INSERT OR IGNORE INTO counters (number) VALUES (?)", (c.number,))

    # ------------------------------------------------------------------ the business day

    def day_of(self, now: datetime) -> str:
        return now.astimezone(self.site.timezone).date().isoformat()

    def roll_day(self, now: datetime, effects: Effects) -> None:
        """On the first moment of a new date: close out old tickets, open the day if automatic."""
        day = self.day_of(now)
        if self.db.execute("SELECT 1 FROM days WHERE day = ?", (day,)).fetchone():
            return
        local = now.astimezone(self.site.timezone)
        opens = self.site.auto_open and self.site.hours.is_working_day(local)
        self.db.execute(
            "UPDATE tickets SET status = 'expired' WHERE day < ? AND status = 'waiting'", (day,)
        )
        self.db.execute(
            "UPDATE tickets SET status = 'served' WHERE day < ? AND status = 'serving'", (day,)
        )
        self.db.execute("UPDATE counters SET priority_streak = 0")
        self.db.execute("DELETE FROM commands WHERE at < ?", (now.timestamp() - 3 * 86400,))
        if opens:
            self.db.execute("INSERT INTO days (day, opened_at) VALUES (?, ?)", (day, now.timestamp()))
        else:
            self.db.execute(
                "INSERT INTO days (day, opened_at, closed_at) VALUES (?, ?, ?)",
                (day, now.timestamp(), now.timestamp()),
            )
        effects.everything(self.site)

    def is_open(self, day: str) -> bool:
        row = self.db.execute("SELECT closed_at FROM days WHERE day = ?", (day,)).fetchone()
        return row is not None and row["closed_at"] is None

    # ------------------------------------------------------------------ commands

    def apply(self, device: DeviceEntry, cmd: p.Command, now: datetime,
              effects: Effects) -> dict[str, Any]:
        """Apply one validated command; return the reply body or raise ProtocolError."""
        if cmd.op not in p.ROLE_OPS[device.role]:
            raise p.ProtocolError(p.FORBIDDEN, f"a {device.role} may not {cmd.op!r}")
        if cmd.op == "take":
            return self._take(cmd.fields, now, effects)
        if cmd.op in ("open", "close"):
            return self._open_close(cmd.op == "open", now, effects)
        number = cmd.fields["counter"]
        if device.role == "counter" and number != device.counter:
            raise p.ProtocolError(
                p.FORBIDDEN, f"device {device.id} is counter {device.counter}, not {number}"
            )
        if device.role == "web" and number not in device.counters:
            raise p.ProtocolError(p.FORBIDDEN, f"device {device.id} has no console for counter {number}")
        counter = self.site.counter(number)
        if counter is None:
            raise p.ProtocolError(p.NOT_FOUND, f"there is no counter {number}")
        current = self._serving(number)
        if "expect" in cmd.fields:
            shown = current["id"] if current else None
            if shown != cmd.fields["expect"]:
                raise p.ProtocolError(
                    p.STALE,
                    f"counter {number} serves ticket {shown}, not {cmd.fields['expect']}",
                )
        effects.counters.add(number)
        handler = getattr(self, f"_{cmd.op}")
        body: dict[str, Any] = handler(counter, current, cmd.fields, now, effects)
        body.setdefault("state", self.counter_state(number))
        return body

    def _take(self, fields: dict[str, Any], now: datetime, effects: Effects) -> dict[str, Any]:
        day = self.day_of(now)
        if not self.is_open(day):
            raise p.ProtocolError(p.DAY_CLOSED, f"the day {day} is not open")
        if not self.site.hours.is_taking(now.astimezone(self.site.timezone)):
            raise p.ProtocolError(p.OUTSIDE_HOURS, "numbers are given only in the taking hours")
        service = self.site.service(fields["service"])
        if service is None:
            raise p.ProtocolError(p.UNKNOWN_SERVICE, f"no service {fields['service']!r}")
        priority = fields.get("priority")
        if priority is not None and priority not in self.site.priority.codes():
            raise p.ProtocolError(p.UNKNOWN_PRIORITY, f"no priority category {priority!r}")
        seq = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets WHERE day = ? AND issued_service = ?",
            (day, service.code),
        ).fetchone()[0]
        if seq > service.daily_cap:
            raise p.ProtocolError(
                p.CAP_REACHED, f"service {service.code} has given all {service.daily_cap} numbers"
            )
        citizen = fields.get("citizen")
        if citizen and self.site.one_ticket_per_citizen:
            held = self.db.execute(
                "SELECT number FROM tickets WHERE day = ? AND service = ? AND citizen = ?"
                " AND status IN ('waiting', 'serving')",
                (day, service.code, citizen),
            ).fetchone()
            if held:
                raise p.ProtocolError(
                    p.DUPLICATE_CITIZEN, f"this citizen already holds number {held['number']}"
                )
        cursor = self.db.execute(
            "INSERT INTO tickets (day, issued_service, seq, number, service, priority, citizen,"
            " status, rank, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', 0, ?)",
            (day, service.code, seq, service.number(seq), service.code, priority, citizen,
             now.timestamp()),
        )
        ticket_id = cursor.lastrowid
        self.db.execute("UPDATE tickets SET rank = id WHERE id = ?", (ticket_id,))
        self._log(ticket_id, now, "taken")
        effects.services.add(service.code)
        effects.site = True
        row = self._ticket(ticket_id)
        ahead = self._ahead(row)
        return {
            "ticket": self.ticket_view(row),
            "ahead": ahead,
            "est_wait_min": self._estimate_min(service.code, day, ahead),
        }

    def _open_close(self, opening: bool, now: datetime, effects: Effects) -> dict[str, Any]:
        day = self.day_of(now)
        self.db.execute(
            "INSERT INTO days (day, opened_at, closed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET closed_at = excluded.closed_at",
            (day, now.timestamp(), None if opening else now.timestamp()),
        )
        effects.everything(self.site)
        return {"site": self.site_state(now)}

    def _next(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
              now: datetime, effects: Effects) -> dict[str, Any]:
        if current is not None:
            self._finish(current, "served", now, effects)
        return self._call_next(counter, now, effects)

    def _noshow(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                now: datetime, effects: Effects) -> dict[str, Any]:
        if current is None:
            raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
        self._finish(current, "noshow", now, effects)
        return self._call_next(counter, now, effects)

    def _done(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
              now: datetime, effects: Effects) -> dict[str, Any]:
        if current is None:
            raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
        self._finish(current, "served", now, effects)
        return {}

    def _recall(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                now: datetime, effects: Effects) -> dict[str, Any]:
        if current is None:
            raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
        self.db.execute("UPDATE tickets SET calls = calls + 1 WHERE id = ?", (current["id"],))
        self._record_call(current["id"], counter.number, now, True, effects)
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _requeue(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                 now: datetime, effects: Effects) -> dict[str, Any]:
        """The citizen went to complete a form: back near the front of the line, not the end."""
        if current is None:
            raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
        ranks = [
            r[0]
            for r in self.db.execute(
                "SELECT rank FROM tickets WHERE day = ? AND service = ? AND status = 'waiting'"
                " ORDER BY rank LIMIT ?",
                (current["day"], current["service"], self.site.requeue_after + 1),
            )
        ]
        k = self.site.requeue_after
        if len(ranks) > k:
            rank = ranks[k] - 0.5 if k == 0 else (ranks[k - 1] + ranks[k]) / 2
        else:
            rank = (ranks[-1] if ranks else current["rank"]) + 0.5
        self.db.execute(
            "UPDATE tickets SET status = 'waiting', counter = NULL, rank = ? WHERE id = ?",
            (rank, current["id"]),
        )
        self._log(current["id"], now, "requeued", counter.number)
        effects.services.add(current["service"])
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _transfer(self, counter: Counter, current: sqlite3.Row | None, fields: dict[str, Any],
                  now: datetime, effects: Effects) -> dict[str, Any]:
        """To another field's line, keeping the number and the place earned by waiting."""
        if current is None:
            raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
        target = self.site.service(fields["service"])
        if target is None:
            raise p.ProtocolError(p.UNKNOWN_SERVICE, f"no service {fields['service']!r}")
        if target.code == current["service"]:
            raise p.ProtocolError(p.BAD_SCHEMA, f"the ticket is already in {target.code}")
        self.db.execute(
            "UPDATE tickets SET status = 'waiting', counter = NULL, service = ? WHERE id = ?",
            (target.code, current["id"]),
        )
        self._log(current["id"], now, "transferred", counter.number, target.code)
        effects.services.update({current["service"], target.code})
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _pause(self, counter: Counter, _current: sqlite3.Row | None, _fields: dict[str, Any],
               _now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 1 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        return {}

    def _resume(self, counter: Counter, _current: sqlite3.Row | None, _fields: dict[str, Any],
                _now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 0 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        return {}

    def _rate(self, counter: Counter, _current: sqlite3.Row | None, fields: dict[str, Any],
              now: datetime, _effects: Effects) -> dict[str, Any]:
        score = fields["score"]
        if score not in p.RATINGS:
            raise p.ProtocolError(p.BAD_SCHEMA, "score must be 1 (very dissatisfied) to 5")
        row = self.db.execute(
            "SELECT * FROM tickets WHERE id = ? AND counter = ? AND status IN ('serving', 'served')",
            (fields["ticket"], counter.number),
        ).fetchone()
        if row is None:
            raise p.ProtocolError(
                p.NOT_FOUND, f"ticket {fields['ticket']} was not served at counter {counter.number}"
            )
        if row["rating"] is not None:
            raise p.ProtocolError(p.ALREADY_RATED, f"ticket {row['number']} has been rated")
        self.db.execute("UPDATE tickets SET rating = ? WHERE id = ?", (score, row["id"]))
        self._log(row["id"], now, "rated", counter.number, str(score))
        return {"ticket": self.ticket_view(self._ticket(row["id"])), "score": score}

    # ------------------------------------------------------------------ calling

    def _call_next(self, counter: Counter, now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 0 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        chosen = self._choose(counter, self.day_of(now))
        if chosen is None:
            return {"ticket": None}
        self.db.execute(
            "UPDATE tickets SET status = 'serving', counter = ?, called_at = ?, calls = 1"
            " WHERE id = ? AND status = 'waiting'",
            (counter.number, now.timestamp(), chosen["id"]),
        )
        self._record_call(chosen["id"], counter.number, now, False, effects)
        effects.services.add(chosen["service"])
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(chosen["id"]))}

    def _choose(self, counter: Counter, day: str) -> sqlite3.Row | None:
        """Priority first (earlier number first), unless `max_in_a_row` priority calls in a
        row would starve a waiting regular ticket; regular tickets by service preference."""
        marks = ",".join("?" * len(counter.services))
        waiting = f"day = ? AND status = 'waiting' AND service IN ({marks})"
        args = (day, *counter.services)
        first_priority = self.db.execute(
            f"SELECT * FROM tickets WHERE {waiting} AND priority IS NOT NULL ORDER BY rank LIMIT 1",
            args,
        ).fetchone()
        first_regular = None
        for code in counter.services:
            first_regular = self.db.execute(
                "SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND service = ?"
                " AND priority IS NULL ORDER BY rank LIMIT 1",
                (day, code),
            ).fetchone()
            if first_regular is not None:
                break
        streak = self.db.execute(
            "SELECT priority_streak FROM counters WHERE number = ?", (counter.number,)
        ).fetchone()[0]
        if first_priority is not None and (
            first_regular is None or streak < self.site.priority.max_in_a_row
        ):
            self.db.execute(
                "UPDATE counters SET priority_streak = priority_streak + 1 WHERE number = ?",
                (counter.number,),
            )
            return first_priority
        if first_regular is not None:
            self.db.execute(
                "UPDATE counters SET priority_streak = 0 WHERE number = ?", (counter.number,)
            )
        return first_regular

    def _record_call(self, ticket_id: int, counter: int, now: datetime, recall: bool,
                     effects: Effects) -> None:
        cursor = self.db.execute(
            "INSERT INTO calls (ticket, counter, at, recall) VALUES (?, ?, ?, ?)",
            (ticket_id, counter, now.timestamp(), int(recall)),
        )
        self._log(ticket_id, now, "recalled" if recall else "called", counter)
        assert cursor.lastrowid is not None
        effects.calls.append(cursor.lastrowid)

    def _finish(self, ticket: sqlite3.Row, status: str, now: datetime, effects: Effects) -> None:
        self.db.execute(
            "UPDATE tickets SET status = ?, finished_at = ? WHERE id = ?",
            (status, now.timestamp(), ticket["id"]),
        )
        self._log(ticket["id"], now, status, ticket["counter"])
        effects.services.add(ticket["service"])
        effects.site = True

    def _log(self, ticket_id: int | None, now: datetime, event: str, counter: int | None = None,
             detail: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO ticket_log (ticket, at, event, counter, detail) VALUES (?, ?, ?, ?, ?)",
            (ticket_id, now.timestamp(), event, counter, detail),
        )

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

    def _estimate_min(self, code: str, day: str, ahead: int) -> int | None:
        """Minutes until a ticket with `ahead` people before it is called; None if nobody serves."""
        counters = self._open_counters(code)
        if counters == 0:
            return None
        return round(ahead * self._service_minutes(code, day) / counters)

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
            and self.site.hours.is_taking(now.astimezone(self.site.timezone))
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
            "est_wait_min": self._estimate_min(code, day, waiting),
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
            "open": is_open,
            "taking": is_open and self.site.hours.is_taking(now.astimezone(self.site.timezone)),
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
            "counter": row["counter"],
            "counter_name": counter.name,
            "ticket": self.ticket_view(ticket),
            "recall": bool(row["recall"]),
            "calls": ticket["calls"],
            "at": self._local(row["at"]),
        }

    # ------------------------------------------------------------------ idempotency

    def stored_reply(self, device: str, command_id: str) -> str | None:
        row = self.db.execute(
            "SELECT reply FROM commands WHERE device = ? AND id = ?", (device, command_id)
        ).fetchone()
        return row[0] if row else None

    def store_reply(self, device: str, command_id: str, reply: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO commands (device, id, at, reply) VALUES (?, ?, ?, ?)",
            (device, command_id, now.timestamp(), reply),
        )
