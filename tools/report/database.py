"""Reading the visits and counter stints of some days from the dispatcher's database."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import defaultdict
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return found is not None


def refusal_counts(db: sqlite3.Connection, first: str, last: str) -> dict[str, int]:
    """Numbers refused to citizens per field over the days (a database from before they were
    kept has none to count)."""
    if not _has_table(db, "refusals"):
        return {}
    return {service: n for service, n in db.execute(
        "SELECT service, COUNT(*) FROM refusals WHERE day BETWEEN ? AND ? AND service IS NOT NULL"
        " GROUP BY service", (first, last))}


def day_catalogue(db: sqlite3.Connection, first: str, last: str) -> dict[str, Any] | None:
    """The catalogue the last of these days was run with, as the dispatcher kept it."""
    if not _has_table(db, "day_catalogues"):
        return None
    row = db.execute("SELECT catalogue FROM day_catalogues WHERE day BETWEEN ? AND ? ORDER BY day DESC"
                     " LIMIT 1", (first, last)).fetchone()
    return json.loads(row[0]) if row else None


def breaks(days: set[str], periods: list[list[str]], tz: tzinfo) -> dict[str, list[tuple[float, float]]]:
    """The gaps between a day's taking periods (the lunch break), as timestamps, for each day."""
    found: dict[str, list[tuple[float, float]]] = {}
    spans = sorted((a, b) for a, b in periods)
    for day in days:
        date = datetime.fromisoformat(day).date()

        def stamp(text: str, date: Any = date) -> float:
            if text == "24:00":
                return datetime.combine(date, time.max, tz).timestamp()
            return datetime.combine(date, time.fromisoformat(text), tz).timestamp()

        found[day] = [(stamp(b), stamp(c)) for (_, b), (c, _) in itertools.pairwise(spans) if c > b]
    return found


def report_figures(db_path: Path, first: str, last: str, site: SiteConfig | None) -> Figures:
    """The figures of the days; names, time zone and taking hours from `site`, else from the
    catalogue the dispatcher kept with the days."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        visits, stints = load_days(db, first, last)
        refused = refusal_counts(db, first, last)
        catalogue = site.catalogue() if site else day_catalogue(db, first, last)
    finally:
        db.close()
    catalogue = catalogue or {}
    try:
        tz: tzinfo = ZoneInfo(str(catalogue.get("timezone") or DEFAULT_TZ))
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_TZ)
    periods = catalogue.get("hours", {}).get("periods", [])
    return compute_figures(
        visits,
        stints,
        services=[(s["code"], s["name"]) for s in catalogue.get("services", [])],
        counters=[(c["number"], c["name"]) for c in catalogue.get("counters", [])],
        hour_of=lambda stamp: datetime.fromtimestamp(stamp, tz).hour,
        refused=refused,
        breaks=breaks({v.day for v in visits} | {s.day for s in stints}, periods, tz),
    )


def latest_day(db_path: Path) -> str | None:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT MAX(day) FROM tickets").fetchone()[0]
    finally:
        db.close()
