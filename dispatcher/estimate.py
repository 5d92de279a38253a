"""The estimated wait printed on a ticket and shown on the kiosk and the boards.

Counted on the counters actually serving, not on those the site file lists: a counter
serves now when it is not paused and is busy with a citizen or has been heard from (a
call, any press) within the last `ACTIVE_WINDOW_S`. A counter shared between fields
gives each the share of its recent calls that went to it (smoothed, so a field it has
not called yet still gets a little). With nobody serving the field there is no number
to give: None, shown as "—".
"""

from __future__ import annotations

import sqlite3

from luot.config import Counter, SiteConfig

ACTIVE_WINDOW_S = 20 * 60
SHARE_WINDOW_S = 60 * 60


def _active(db: sqlite3.Connection, site: SiteConfig, counter: Counter, now: float) -> tuple[bool, bool]:
    """(serving now, busy with a citizen)."""
    paused = db.execute("SELECT paused FROM counters WHERE number = ?", (counter.number,)).fetchone()
    if paused is None or paused[0]:
        return False, False
    busy = db.execute("SELECT 1 FROM tickets WHERE counter = ? AND status = 'serving'",
                      (counter.number,)).fetchone() is not None
    if busy:
        return True, True
    since = now - ACTIVE_WINDOW_S
    called = db.execute("SELECT 1 FROM calls WHERE counter = ? AND at >= ? LIMIT 1",
                        (counter.number, since)).fetchone()
    devices = [d.id for d in site.devices if d.role == "counter" and d.counter == counter.number]
    pressed = devices and db.execute(
        f"SELECT 1 FROM commands WHERE at >= ? AND device IN ({','.join('?' * len(devices))}) LIMIT 1",
        (since, *devices),
    ).fetchone()
    return bool(called or pressed), False


def _share(db: sqlite3.Connection, counter: Counter, code: str, now: float) -> float:
    """The part of this counter's time that goes to field `code`, from its recent calls."""
    rows = db.execute(
        "SELECT t.service, COUNT(*) FROM calls c JOIN tickets t ON t.id = c.ticket"
        " WHERE c.counter = ? AND c.at >= ? AND c.recall = 0 GROUP BY t.service",
        (counter.number, now - SHARE_WINDOW_S),
    ).fetchall()
    calls = {service: n for service, n in rows if service in counter.services}
    return (calls.get(code, 0) + 1) / (sum(calls.values()) + len(counter.services))


def estimate_minutes(db: sqlite3.Connection, site: SiteConfig, code: str, now: float, ahead: int,
                     service_min: float) -> int | None:
    """Minutes until the next ticket after `ahead` others in field `code` is called."""
    capacity = 0.0
    idle = 0
    for counter in site.counters:
        if code not in counter.services:
            continue
        serving, busy = _active(db, site, counter, now)
        if serving:
            capacity += _share(db, counter, code, now)
            idle += not busy
    if capacity <= 0:
        return None
    if ahead < idle:
        return 0
    return round((ahead - idle + 1) * service_min / capacity)
