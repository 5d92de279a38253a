"""The epoch of the hub's database: a random name it is given when it is created.

Call sequence numbers start again at 1 in a new database (a replaced SD card, a
restored hub), so a display that heard call 7 of the old one must not take call 7
of the new one for a duplicate. The epoch goes with every call and with
`state/site`; a device keys what it has heard by (epoch, seq).
"""

from __future__ import annotations

import secrets
import sqlite3


def database_epoch(db: sqlite3.Connection) -> str:
    """The database's epoch, made on its first use and kept in it from then on."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)", (secrets.token_hex(8),))
    return str(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])
