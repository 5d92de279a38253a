"""The hub's database: its schema and how it is opened.

WAL with synchronous=FULL, so that a commit survives a power cut.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
    digest TEXT,                    -- what the command asked for: another body is id_conflict
    PRIMARY KEY (device, id)
) WITHOUT ROWID;
"""


def open_database(path: str | Path, *, max_pages: int | None = None) -> sqlite3.Connection:
    """SQLite in WAL mode with synchronous=FULL: a commit survives a power cut.

    `max_pages` caps the file (SQLite's max_page_count): past it every write fails as on a
    full card, which is how a hub keeps room for the rest of the system.
    """
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(SCHEMA)
    columns = {row["name"] for row in db.execute("PRAGMA table_info(commands)")}
    if "digest" not in columns:  # a database from before id_conflict
        db.execute("ALTER TABLE commands ADD COLUMN digest TEXT")
    if max_pages is not None:
        db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
    return db


def is_full(error: sqlite3.Error) -> bool:
    """Whether SQLite failed because the card (or the database's cap) is full."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
