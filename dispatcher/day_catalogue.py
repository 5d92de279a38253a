"""The catalogue a day was run with, kept beside its tickets.

A report read months later, or on a laptop without the hub's site.toml, still names
the fields and counters of that day and knows its taking hours (its lunch break).
"""

from __future__ import annotations

import json
import sqlite3

from luot.config import SiteConfig

SCHEMA = ("CREATE TABLE IF NOT EXISTS day_catalogues (day TEXT PRIMARY KEY, catalogue TEXT NOT NULL)"
          " WITHOUT ROWID")


def keep_catalogue(db: sqlite3.Connection, site: SiteConfig, day: str) -> None:
    """Store (or update) the catalogue of `day`, inside the caller's transaction."""
    db.execute(SCHEMA)
    db.execute(
        "INSERT INTO day_catalogues (day, catalogue) VALUES (?, ?) ON CONFLICT (day) DO UPDATE"
        " SET catalogue = excluded.catalogue WHERE catalogue != excluded.catalogue",
        (day, json.dumps(site.catalogue(), ensure_ascii=False, sort_keys=True)),
    )
