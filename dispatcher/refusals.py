"""Numbers refused to citizens, kept for the day's report: when, which field, and why.

A refused `take` changes nothing in the queue (its savepoint is rolled back), so it
would leave no trace; the leaders' report counts them ("Bị từ chối") from this table.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from luot import protocol as p
from luot.config import SiteConfig

# Made on first use, inside the command's transaction (executescript would commit it).
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS refusals (day TEXT NOT NULL, at REAL NOT NULL, service TEXT,"
    " reason TEXT NOT NULL, device TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS refusals_by_day ON refusals (day, service)",
)


def record_refusal(db: sqlite3.Connection, site: SiteConfig, device: str, cmd: p.Command, code: str,
                   now: datetime) -> None:
    """Keep a refused `take` (other ops refused are the officers' and the technician's business)."""
    if cmd.op != "take":
        return
    service = cmd.fields.get("service")
    for statement in SCHEMA:
        db.execute(statement)
    db.execute(
        "INSERT INTO refusals (day, at, service, reason, device) VALUES (?, ?, ?, ?, ?)",
        (now.astimezone(site.timezone).date().isoformat(), now.timestamp(),
         service if isinstance(service, str) else None, code, device),
    )

