"""Special sessions: numbers given outside the site's taking hours because the leaders said so
(a weekend duty, a campaign day), opened with `luot admin open --until HH:MM`.

A session belongs to its business day and ends at its time; the site's own hours are
untouched, so the next day is as the site file says.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time

from luot import protocol as p
from luot.config import SiteConfig

SCHEMA = ("CREATE TABLE IF NOT EXISTS sessions (day TEXT NOT NULL, opened_at REAL NOT NULL,"
          " until REAL NOT NULL)")


def open_session(db: sqlite3.Connection, site: SiteConfig, now: datetime, until: str) -> None:
    """Give numbers from now to `until` ("HH:MM", later today), whatever the hours say."""
    try:
        end = time.fromisoformat(until)
    except ValueError:
        raise p.ProtocolError(p.BAD_SCHEMA, f'until: expected a time "HH:MM"; got {until!r}') from None
    local = now.astimezone(site.timezone)
    stop = datetime.combine(local.date(), end, site.timezone)
    if stop <= local:
        raise p.ProtocolError(p.BAD_SCHEMA, f"until: {until} has already passed today")
    db.execute(SCHEMA)
    db.execute("INSERT INTO sessions (day, opened_at, until) VALUES (?, ?, ?)",
               (local.date().isoformat(), now.timestamp(), stop.timestamp()))


def in_session(db: sqlite3.Connection, day: str, now: datetime) -> bool:
    made = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").fetchone()
    if made is None:
        return False
    return db.execute("SELECT 1 FROM sessions WHERE day = ? AND opened_at <= ? AND ? < until LIMIT 1",
                      (day, now.timestamp(), now.timestamp())).fetchone() is not None
