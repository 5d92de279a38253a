"""How many numbers one person may take, checked where every channel's `take` arrives.

The person is the salted hash of their ID card's number (the kiosk's scanner, a web
booking): the dispatcher never sees the number itself. A refusal names the numbers the
person already holds, so the citizen is told why on the screen.
"""

from __future__ import annotations

import sqlite3

from luot import protocol as p
from luot.config import SiteConfig


def check_citizen(db: sqlite3.Connection, site: SiteConfig, day: str, service: str, citizen: str) -> None:
    """Raise ProtocolError when this person may not take another number of `service` today."""
    if site.one_ticket_per_citizen:
        held = db.execute(
            "SELECT number FROM tickets WHERE day = ? AND service = ? AND citizen = ?"
            " AND status IN ('waiting', 'serving')",
            (day, service, citizen),
        ).fetchone()
        if held:
            raise p.ProtocolError(p.DUPLICATE_CITIZEN, f"this citizen already holds number {held['number']}")
    limits = site.citizen_limits
    if not (limits.per_day or limits.per_field_per_day):
        return
    taken = db.execute(
        "SELECT number, issued_service FROM tickets WHERE day = ? AND citizen = ? ORDER BY id",
        (day, citizen),
    ).fetchall()
    here = [row["number"] for row in taken if row["issued_service"] == service]
    if limits.per_field_per_day and len(here) >= limits.per_field_per_day:
        raise p.ProtocolError(
            p.CITIZEN_LIMIT, f"field: {limits.per_field_per_day} a day in this field; "
                             f"this citizen took number {', '.join(here)} today")
    if limits.per_day and len(taken) >= limits.per_day:
        raise p.ProtocolError(
            p.CITIZEN_LIMIT, f"day: {limits.per_day} a day in all; this citizen took number "
                             f"{', '.join(row['number'] for row in taken)} today")
