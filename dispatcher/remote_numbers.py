"""Numbers taken from home (the city's portal), confirmed at the kiosk on arrival.

A number the `portal` device took waits in the same line as the kiosk's, but a counter
passes over it until the citizen confirms it by scanning the same ID card at a kiosk
(the kiosk's take for that field then answers with that number, which it prints). One
not confirmed when its turn comes is skipped without penalty — it keeps its place, so a
late confirmation is called next — and counted as skipped. The portal's takes are
recognised by their stored reply (a trigger on `commands`), so the take path itself does
not change.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Protocol

from luot.config import DeviceEntry

PORTAL_DEVICE = "portal"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS remote_numbers (
    ticket INTEGER PRIMARY KEY REFERENCES tickets (id),
    confirmed_at REAL,
    skipped INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS remote_number_taken AFTER INSERT ON commands
WHEN NEW.device = '{PORTAL_DEVICE}' AND json_valid(NEW.reply) AND json_extract(NEW.reply, '$.ok') = 1
  AND json_extract(NEW.reply, '$.ticket.id') IS NOT NULL BEGIN
    INSERT OR IGNORE INTO remote_numbers (ticket) VALUES (json_extract(NEW.reply, '$.ticket.id'));
END;
"""

# Tickets a counter must not call yet: taken from home, not confirmed at a kiosk.
UNCONFIRMED = "SELECT ticket FROM remote_numbers WHERE confirmed_at IS NULL"


class ArrivalCheck(Protocol):
    """How a citizen proves on arrival that a number from home is theirs: the seam where
    national identity (VNeID) would come in. The first implementation is the kiosk's card."""

    def citizen_on_arrival(self, device: DeviceEntry, fields: dict[str, Any]) -> str | None:
        """The citizen hash this take proves present at the centre, or None."""
        ...


class KioskCard:
    """The ID card scanned at a kiosk of the centre: its hash, as the kiosk sends it."""

    def citizen_on_arrival(self, device: DeviceEntry, fields: dict[str, Any]) -> str | None:
        citizen = fields.get("citizen")
        return citizen if device.role == "kiosk" and device.id != PORTAL_DEVICE and citizen else None


def install(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def confirm_arrival(db: sqlite3.Connection, day: str, service: str, citizen: str,
                    now: datetime) -> int | None:
    """The kiosk scanned a card: its holder's unconfirmed number from home in `service`
    today, now confirmed (its id), or None."""
    row = db.execute(
        "SELECT t.id FROM tickets AS t JOIN remote_numbers AS r ON r.ticket = t.id"
        " WHERE t.day = ? AND t.service = ? AND t.citizen = ? AND t.status = 'waiting'"
        " AND r.confirmed_at IS NULL ORDER BY t.rank LIMIT 1",
        (day, service, citizen),
    ).fetchone()
    if row is None:
        return None
    db.execute("UPDATE remote_numbers SET confirmed_at = ? WHERE ticket = ?", (now.timestamp(), row[0]))
    return int(row[0])


def skip_unconfirmed(db: sqlite3.Connection, day: str, services: tuple[str, ...],
                     before_rank: float | None) -> None:
    """A counter called past them (`before_rank`; None: it found no one else): their turn came."""
    marks = ",".join("?" * len(services))
    db.execute(
        f"UPDATE remote_numbers SET skipped = 1 WHERE skipped = 0 AND confirmed_at IS NULL AND ticket IN"
        f" (SELECT id FROM tickets WHERE day = ? AND status = 'waiting' AND service IN ({marks})"
        " AND rank < ?)",
        (day, *services, before_rank if before_rank is not None else float("inf")),
    )
