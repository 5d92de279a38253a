"""The queue authority: every decision about numbers and calls, kept in SQLite.

`QueueBook` applies one command inside the caller's transaction and records
which retained topics it touched; `dispatcher.service` commits a batch and only
then replies and publishes. What it reads and publishes is in `dispatcher.views`;
the counter ops and the calling they share are in `dispatcher.counter_ops`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatcher.citizen_limits import check_citizen
from dispatcher.counter_ops import CounterOps
from dispatcher.day_catalogue import keep_catalogue
from dispatcher.effects import Effects
from dispatcher.remote_numbers import ArrivalCheck, KioskCard, confirm_arrival
from dispatcher.remote_numbers import install as install_remote_numbers
from dispatcher.sessions import open_session
from luot import protocol as p
from luot.config import Counter, DeviceEntry, SiteConfig

CounterOp = Callable[
    [Counter, sqlite3.Row | None, dict[str, Any], datetime, "Effects"], dict[str, Any]
]


class QueueBook(CounterOps):
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
