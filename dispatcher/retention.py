"""How long the hub keeps what it knows about citizens, and the per-day figures it keeps instead.

Decree 13/2023/NĐ-CP on personal data asks that data be kept only as long as its purpose
needs. The defaults follow each purpose:

- the salted hash of a citizen's ID card serves one rule, "one number per field per day",
  so it is erased once that day is over (`citizen_days = 1`: only today's are kept);
- a ticket's own row (number, times, counter, rating) and its log serve the centre's
  reports and the answer to a complaint about a day: kept 12 months (`ticket_months`);
- the stored replies that make commands idempotent matter for minutes: 30 days;
- the per-day figures of each field (issued, served, waits, ratings) hold nothing about any
  one person and are kept for good, in `daily_figures`, written before any row goes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from luot.config import Section

FIGURES_SCHEMA = """
CREATE TABLE IF NOT EXISTS daily_figures (
    day TEXT NOT NULL,
    service TEXT NOT NULL,          -- the service whose sequence gave the numbers
    issued INTEGER NOT NULL,
    served INTEGER NOT NULL,
    noshow INTEGER NOT NULL,
    called INTEGER NOT NULL,
    wait_s_total REAL NOT NULL,     -- issued → first call, over the called tickets
    wait_s_max REAL NOT NULL,
    service_s_total REAL NOT NULL,  -- call → finished, over the served tickets
    ratings TEXT NOT NULL,          -- votes 1..5 as "n1,n2,n3,n4,n5"
    PRIMARY KEY (day, service)
);
"""

SUMMARY = """
INSERT OR IGNORE INTO daily_figures
SELECT day, issued_service, COUNT(*),
       SUM(status = 'served'), SUM(status = 'noshow'), COUNT(called_at),
       COALESCE(SUM(called_at - issued_at), 0), COALESCE(MAX(called_at - issued_at), 0),
       COALESCE(SUM(CASE WHEN status = 'served' THEN finished_at - called_at END), 0),
       SUM(rating = 1) || ',' || SUM(rating = 2) || ',' || SUM(rating = 3) || ',' ||
       SUM(rating = 4) || ',' || SUM(rating = 5)
FROM tickets WHERE day < ? GROUP BY day, issued_service
"""


@dataclass(frozen=True)
class Retention:
    citizen_days: int = 1
    ticket_months: int = 12
    command_days: int = 30


@dataclass(frozen=True)
class Purged:
    """What one run erased."""

    citizen_hashes: int = 0
    tickets: int = 0
    commands: int = 0
    days_summarised: int = 0


def load_retention(hub: Section) -> Retention:
    """`[hub.retention]` of the hub's device.toml."""
    r = hub.section("retention")
    default = Retention()
    retention = Retention(
        citizen_days=r.int("citizen_days", default.citizen_days, min=1, max=31),
        ticket_months=r.int("ticket_months", default.ticket_months, min=1, max=120),
        command_days=r.int("command_days", default.command_days, min=1, max=365),
    )
    return retention


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


def apply_retention(db: sqlite3.Connection, retention: Retention, today: date) -> Purged:
    """Summarise finished days, then erase what has outlived its purpose, in one transaction.
    Runs beside the live dispatcher (WAL): it touches only days before today."""
    db.execute("PRAGMA secure_delete=ON")  # erased bytes are overwritten, not left in free pages
    db.executescript(FIGURES_SCHEMA)
    hashes_before = (today - timedelta(days=retention.citizen_days - 1)).isoformat()
    tickets_before = months_before(today, retention.ticket_months).isoformat()
    commands_before = datetime.combine(today - timedelta(days=retention.command_days), time()).timestamp()
    with db:
        summarised = db.execute(SUMMARY, (today.isoformat(),)).rowcount
        hashes = db.execute("UPDATE tickets SET citizen = NULL WHERE citizen IS NOT NULL AND day < ?",
                            (hashes_before,)).rowcount
        old = "SELECT id FROM tickets WHERE day < ?"
        db.execute(f"DELETE FROM calls WHERE ticket IN ({old})", (tickets_before,))
        db.execute(f"DELETE FROM ticket_log WHERE ticket IN ({old})", (tickets_before,))
        tickets = db.execute("DELETE FROM tickets WHERE day < ?", (tickets_before,)).rowcount
        commands = db.execute("DELETE FROM commands WHERE at < ?", (commands_before,)).rowcount
    return Purged(hashes, tickets, commands, summarised)
