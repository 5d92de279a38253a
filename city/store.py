"""The city's PostgreSQL: every hub's journal, idempotently, and which ranges are missing.

An event is identified by (hub, seq): inserting it twice, in any order, from any
number of collectors at once, leaves one row. Every figure is computed from the set
of events, never from the order they arrived in, so a duplicated or reordered event
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    hub TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    ticket BIGINT,
    day TEXT,
    number TEXT,
    service TEXT,
    issued_service TEXT,
    counter INTEGER,
    detail TEXT,
    device TEXT,
    received_at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
    PRIMARY KEY (hub, seq)
);
CREATE INDEX IF NOT EXISTS events_day ON events (hub, day, ticket);
CREATE TABLE IF NOT EXISTS hubs (
    hub TEXT PRIMARY KEY,
    head BIGINT NOT NULL DEFAULT 0,          -- the hub's latest seq, as it last said
    contiguous BIGINT NOT NULL DEFAULT 0,    -- every seq up to here is stored
    seen_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS devices (
    hub TEXT NOT NULL,
    device TEXT NOT NULL,
    online BOOLEAN NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (hub, device)
);
"""

FIELDS = ("seq", "kind", "at", "ticket", "day", "number", "service", "issued_service", "counter",
          "detail", "device")


@dataclass(frozen=True)
class Gap:
    hub: str
    first: int
    last: int


def connect(dsn: str) -> psycopg.Connection[Any]:
    db = psycopg.connect(dsn, autocommit=True)
    db.execute("SELECT pg_advisory_lock(7515)")  # one schema creation at a time
    try:
        db.execute(SCHEMA)
    finally:
        db.execute("SELECT pg_advisory_unlock(7515)")
    return db


def store_events(db: psycopg.Connection[Any], hub: str, head: int, events: list[dict[str, Any]],
                 seen_at: float) -> int:
    """Insert what is new; return how many rows were new. Known events are skipped."""
    rows = [(hub, *[e.get(k) for k in FIELDS]) for e in events]
    with db.transaction(), db.cursor() as cur:
        cur.execute(
            "INSERT INTO hubs (hub, head, seen_at) VALUES (%s, %s, %s) ON CONFLICT (hub) DO UPDATE"
            " SET head = GREATEST(hubs.head, excluded.head), seen_at = excluded.seen_at",
            (hub, head, seen_at),
        )
        if not rows:
            return 0
        cur.execute(
            "INSERT INTO events (hub, seq, kind, at, ticket, day, number, service, issued_service,"
            " counter, detail, device) SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[],"
            " %s::float8[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::int[], %s::text[], %s::text[]) ON CONFLICT (hub, seq) DO NOTHING",
            [list(column) for column in zip(*rows, strict=True)],
        )
        return cur.rowcount


def gaps(db: psycopg.Connection[Any], hub: str) -> list[Gap]:
    """The missing ranges of a hub's journal, up to the head it last told; also advances
    `contiguous`, so the next look starts where every earlier seq is known to be stored."""
    row = db.execute("SELECT head, contiguous FROM hubs WHERE hub = %s", (hub,)).fetchone()
    if row is None:
        return []
    head, contiguous = row
    seqs = [r[0] for r in db.execute(
        "SELECT seq FROM events WHERE hub = %s AND seq > %s ORDER BY seq", (hub, contiguous))]
    found: list[Gap] = []
    expected = contiguous + 1
    for seq in seqs:
        if seq > expected:
            found.append(Gap(hub, expected, seq - 1))
        expected = seq + 1
    if head >= expected:
        found.append(Gap(hub, expected, head))
    reached = found[0].first - 1 if found else expected - 1
    if reached > contiguous:
        db.execute("UPDATE hubs SET contiguous = GREATEST(contiguous, %s) WHERE hub = %s", (reached, hub))
    return found


def hubs(db: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in db.execute("SELECT hub FROM hubs ORDER BY hub")]


def store_device(db: psycopg.Connection[Any], hub: str, device: str, online: bool, at: float) -> None:
    db.execute(
        "INSERT INTO devices (hub, device, online, at) VALUES (%s, %s, %s, %s) ON CONFLICT (hub, device)"
        " DO UPDATE SET online = excluded.online, at = excluded.at WHERE devices.at <= excluded.at",
        (hub, device, online, at),
    )
