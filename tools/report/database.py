"""Reading the visits and counter stints of some days from the dispatcher's database."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from luot.config import SiteConfig
from tools.report.figures import Figures, Stint, Visit, compute_figures

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def load_days(db: sqlite3.Connection, first: str, last: str) -> tuple[list[Visit], list[Stint]]:
    """Visits and counter stints of the days `first`..`last` from the dispatcher's tables."""
    visits: dict[int, Visit] = {}
    for row in db.execute(
        "SELECT id, day, number, issued_service, issued_at, called_at, finished_at, status, counter,"
        " rating FROM tickets WHERE day BETWEEN ? AND ? ORDER BY id",
        (first, last),
    ):
        visits[row[0]] = Visit(
            ticket=row[0], day=row[1], number=row[2], service=row[3], issued_at=row[4],
            served_from=row[5], finished_at=row[6], status=row[7], counter=row[8], rating=row[9],
        )
    stints: list[Stint] = []
    open_stint: dict[int, tuple[int, float]] = {}
    last_at: dict[str, float] = defaultdict(float)
    if visits:
        marks = (min(visits), max(visits))
        rows = db.execute(
            "SELECT ticket, at, event, counter FROM ticket_log WHERE ticket BETWEEN ? AND ?"
            " ORDER BY rowid",
            marks,
        ).fetchall()
    else:
        rows = []
    for ticket, at, event, counter in rows:
        visit = visits.get(ticket)
        if visit is None:
            continue
        last_at[visit.day] = max(last_at[visit.day], at)
        if event == "called":
            if visit.called_at is None:
                visit.called_at = at
            open_stint[ticket] = (counter, at)
        elif event in ("served", "noshow", "requeued", "transferred") and ticket in open_stint:
            where, start = open_stint.pop(ticket)
            stints.append(Stint(where, ticket, start, at, visit.day))
    for ticket, (where, start) in open_stint.items():
        day = visits[ticket].day
        stints.append(Stint(where, ticket, start, max(start, last_at[day]), day))
    return list(visits.values()), stints


def report_figures(db_path: Path, first: str, last: str, site: SiteConfig | None) -> Figures:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        visits, stints = load_days(db, first, last)
    finally:
        db.close()
    tz = site.timezone if site else ZoneInfo(DEFAULT_TZ)
    return compute_figures(
        visits,
        stints,
        services=[(s.code, s.name) for s in site.services] if site else [],
        counters=[(c.number, c.name) for c in site.counters] if site else [],
        hour_of=lambda stamp: datetime.fromtimestamp(stamp, tz).hour,
    )


def latest_day(db_path: Path) -> str | None:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT MAX(day) FROM tickets").fetchone()[0]
    finally:
        db.close()
