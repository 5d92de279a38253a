"""`luot backup`: the hub's nightly backup, and the restore a new card starts from.

A live database in WAL mode is never copied as a file (the copy could hold half a commit,
or miss what is still in the -wal file): SQLite's online backup API takes a consistent
snapshot while the dispatcher keeps writing. Each backup is checked (`integrity_check`),
carries no ID-card hash (they stay on the live hub for their one day), is written under a
temporary name and renamed, and is kept `keep_days` days in the folder the technician
names (a USB stick or a folder). Retention (retention.py) runs first.

    luot backup --config /etc/luot/hub.toml        (luot-backup.timer, every night)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sqlite3
import sys
import time
from datetime import date, datetime
from pathlib import Path

from dispatcher.retention import apply_retention
from dispatcher.settings import load_hub_settings
from luot.config import ConfigError, load_device, load_site

NAME = re.compile(r"^luot-(\d{4}-\d{2}-\d{2})-\d{6}\.db$")
REQUIRED_TABLES = {"days", "tickets", "calls", "ticket_log", "counters", "commands"}


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says why."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_database(db: sqlite3.Connection, what: str) -> None:
    """A Lượt database, whole: the tables the dispatcher needs and a clean integrity check."""
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        result = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{what}: not a readable SQLite database: {e}") from None
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(f"{what}: not a Lượt database (no {', '.join(sorted(missing))} table)")
    if result != "ok":
        raise BackupError(f"{what}: damaged: {result}")


def backup(database: Path, folder: Path, now: datetime) -> Path:
    """A checked snapshot of the live database in `folder`; returns its path."""
    if not database.is_file():
        raise BackupError(f"{database}: no database to back up")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"luot-{now:%Y-%m-%d-%H%M%S}.db"
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(part)
    try:
        # One step: in WAL mode it reads one snapshot while the dispatcher keeps committing; steps
        # would restart after each of its commits, and a busy hub would never finish a backup.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.execute("PRAGMA secure_delete=ON")
        with copy:
            copy.execute("UPDATE tickets SET citizen = NULL WHERE citizen IS NOT NULL")
        check_database(copy, str(part))
    finally:
        copy.close()
        source.close()
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, target)
    _fsync_dir(folder)
    return target


def prune(folder: Path, keep_days: int, today: date) -> list[Path]:
    """Drop backups older than `keep_days`; the newest one always stays."""
    dated = sorted((m[1], p) for p in folder.iterdir() if (m := NAME.match(p.name)))
    removed = []
    for day, path in dated[:-1]:
        if (today - date.fromisoformat(day)).days >= keep_days:
            path.unlink()
            removed.append(path)
    return removed


def restore(backup_file: Path, database: Path, *, force: bool = False) -> str:
    """Bring a backup back as the hub's database (the dispatcher stopped); returns what was done."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup")
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        check_database(source, str(backup_file))
        tickets, days = source.execute("SELECT COUNT(*), COUNT(DISTINCT day) FROM tickets").fetchone()
        kept = ""
        if database.exists():
            if not force:
                raise BackupError(f"{database} exists: stop luot-dispatcher, then give --force "
                                  "(the current database is kept beside it)")
            aside = database.with_name(f"{database.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            database.rename(aside)
            kept = f"; the previous database is kept as {aside}"
        database.parent.mkdir(parents=True, exist_ok=True)
        for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            stale.unlink(missing_ok=True)
        part = database.with_name(database.name + ".part")
        part.unlink(missing_ok=True)
        copy = sqlite3.connect(part)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(part, database)
    _fsync_dir(database.parent)
    if os.geteuid() == 0:
        with contextlib.suppress(LookupError, OSError):  # the hub's service user, where it exists
            shutil.chown(database, "luot", "luot")
    return f"restored {backup_file} into {database}: {tickets} tickets over {days} days{kept}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot backup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("/etc/luot/hub.toml"),
                        help="the hub's device.toml (default: %(default)s)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        device = load_device(args.config)
        device.require_role("hub", "backup")
        hub = load_hub_settings(device)
        database, options = hub.database, hub.backup
        now = datetime.now(load_site(hub.site_file).timezone)
    except ConfigError as e:
        print(e.explain("luot backup: configuration error: "))
        return 2
    try:
        db = sqlite3.connect(database, timeout=30)
        try:
            purged = apply_retention(db, options.retention, now.date())
        finally:
            db.close()
        made = backup(database, options.folder, now)
        removed = prune(options.folder, options.keep_days, now.date())
    except (BackupError, OSError, sqlite3.Error) as e:
        print(f"luot backup: {e}")
        return 1
    print(f"retention: {purged.citizen_hashes} ID-card hashes and {purged.tickets} tickets erased, "
          f"{purged.days_summarised} days summarised; backup {made} ({made.stat().st_size} bytes); "
          f"{len(removed)} older than {options.keep_days} days removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
