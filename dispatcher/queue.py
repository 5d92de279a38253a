"""The queue authority: every decision about numbers and calls, kept in SQLite.

`QueueBook` applies one command inside the caller's transaction and records
which retained topics it touched; `dispatcher.service` commits a batch and only
then replies and publishes. What it reads and publishes is in `dispatcher.views`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatcher.citizen_limits import check_citizen
from dispatcher.day_catalogue import keep_catalogue
from dispatcher.remote_numbers import UNCONFIRMED, ArrivalCheck, KioskCard, confirm_arrival, skip_unconfirmed
from dispatcher.remote_numbers import install as install_remote_numbers
from dispatcher.sessions import open_session
from dispatcher.views import QueueViews
from luot import protocol as p
from luot.config import Counter, DeviceEntry, SiteConfig

CounterOp = Callable[
    [Counter, sqlite3.Row | None, dict[str, Any], datetime, "Effects"], dict[str, Any]
]


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


class QueueBook(QueueViews):
    """The commands: each changes the tables inside the caller's transaction."""

    def __init__(self, db: sqlite3.Connection, site: SiteConfig) -> None:
        super().__init__(db, site)
        install_remote_numbers(db)
        self.arrival_check: ArrivalCheck = KioskCard()
        for c in site.counters:
            db.execute("INSERT OR IGNORE INTO counters (number) VALUES (?)", (c.number,))
        # The counter ops, spelt out: an op name from the wire never becomes an attribute name.
        self._counter_ops: dict[str, CounterOp] = {
            "next": self._next,
            "recall": self._recall,
            "noshow": self._noshow,
            "done": self._done,
            "requeue": self._requeue,
            "transfer": self._transfer,
            "pause": self._pause,
            "resume": self._resume,
            "rate": self._rate,
        }

    # ------------------------------------------------------------------ the business day

    def roll_day(self, now: datetime, effects: Effects) -> None:
        """On the first moment of a new date: close out old tickets, open the day if automatic."""
        day = self.day_of(now)
        latest = self.db.execute("SELECT MAX(day) FROM days").fetchone()[0]
        if latest is not None and day <= latest:
            return  # today, or a clock that went back: a business day never rolls backward
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

    # ------------------------------------------------------------------ commands

    def apply(self, device: DeviceEntry, cmd: p.Command, now: datetime,
              effects: Effects) -> dict[str, Any]:
        """Apply one validated command; return the reply body or raise ProtocolError."""
        if cmd.op not in p.ROLE_OPS[device.role]:
            raise p.ProtocolError(p.FORBIDDEN, f"a {device.role} may not {cmd.op!r}")
        if cmd.op == "take":
            return self._take(cmd.fields, now, effects, device)
        if cmd.op in ("open", "close"):
            if cmd.op == "open" and cmd.fields.get("until") is not None:
                open_session(self.db, self.site, now, cmd.fields["until"])
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
        handler = self._counter_ops.get(cmd.op)
        if handler is None:
            raise p.ProtocolError(p.UNKNOWN_OP, f"{cmd.op!r} is not a counter op")
        effects.counters.add(number)
        body = handler(counter, current, cmd.fields, now, effects)
        body.setdefault("state", self.counter_state(number))
        return body

    def last_seen(self) -> float | None:
        """The latest moment the database recorded: a clock behind it is not plausible."""
        return self.db.execute(
            "SELECT MAX(at) FROM (SELECT MAX(opened_at) AS at FROM days"
            " UNION ALL SELECT MAX(at) FROM commands)"
        ).fetchone()[0]

    def _take(self, fields: dict[str, Any], now: datetime, effects: Effects,
              device: DeviceEntry) -> dict[str, Any]:
        day = self.day_of(now)
        latest = self.db.execute("SELECT MAX(day) FROM days").fetchone()[0]
        if latest is not None and day < latest:
            raise p.ProtocolError(p.CLOCK_UNSURE, f"the hub's clock says {day}, before {latest}")
        if not self.is_open(day):
            raise p.ProtocolError(p.DAY_CLOSED, f"the day {day} is not open")
        if not self.in_hours(now):
            raise p.ProtocolError(p.OUTSIDE_HOURS, "numbers are given only in the taking hours")
        service = self.site.service(fields["service"])
        if service is None:
            raise p.ProtocolError(p.UNKNOWN_SERVICE, f"no service {fields['service']!r}")
        priority = fields.get("priority")
        if priority is not None and priority not in self.site.priority.codes():
            raise p.ProtocolError(p.UNKNOWN_PRIORITY, f"no priority category {priority!r}")
        citizen = fields.get("citizen")
        arrived = self.arrival_check.citizen_on_arrival(device, fields)
        if arrived:
            held = confirm_arrival(self.db, day, service.code, arrived, now)
            if held is not None:  # a number from home, confirmed by its card: the kiosk prints it
                effects.services.add(service.code)
                return self._taken(self._ticket(held), now)
        seq = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets WHERE day = ? AND issued_service = ?",
            (day, service.code),
        ).fetchone()[0]
        if seq > service.daily_cap:
            raise p.ProtocolError(
                p.CAP_REACHED, f"service {service.code} has given all {service.daily_cap} numbers"
            )
        if citizen:
            check_citizen(self.db, self.site, day, service.code, citizen)
        keep_catalogue(self.db, self.site, day)
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
        return self._taken(self._ticket(ticket_id), now)

    def _taken(self, row: sqlite3.Row, now: datetime) -> dict[str, Any]:
        ahead = self._ahead(row)
        return {
            "ticket": self.ticket_view(row),
            "ahead": ahead,
            "est_wait_min": self._estimate_min(row["service"], now, ahead),
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
        skip_unconfirmed(self.db, self.day_of(now), counter.services, chosen["rank"] if chosen else None)
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
        waiting = f"day = ? AND status = 'waiting' AND service IN ({marks}) AND id NOT IN ({UNCONFIRMED})"
        args = (day, *counter.services)
        first_priority = self.db.execute(
            f"SELECT * FROM tickets WHERE {waiting} AND priority IS NOT NULL ORDER BY rank LIMIT 1",
            args,
        ).fetchone()
        first_regular = None
        for code in counter.services:
            first_regular = self.db.execute(
                "SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND service = ?"
                f" AND priority IS NULL AND id NOT IN ({UNCONFIRMED}) ORDER BY rank LIMIT 1",
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

    # ------------------------------------------------------------------ idempotency

    def stored_reply(self, device: str, command_id: str) -> tuple[str, str | None] | None:
        """The reply already given to this id, and the digest of the command it answered."""
        row = self.db.execute(
            "SELECT reply, digest FROM commands WHERE device = ? AND id = ?", (device, command_id)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def store_reply(self, device: str, command_id: str, digest: str, reply: str,
                    now: datetime) -> None:
        self.db.execute(
            "INSERT INTO commands (device, id, at, reply, digest) VALUES (?, ?, ?, ?, ?)",
            (device, command_id, now.timestamp(), reply, digest),
        )
