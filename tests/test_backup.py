"""Backups by SQLite's online backup API while the dispatcher runs, restored on a "new card"
with `luot admin restore` and served again; pruning; the nightly `luot backup` command."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import SITE_FILE, wait_for

from dispatcher.backup import BackupError, backup, main, prune, restore
from dispatcher.service import Dispatcher
from dispatcher.storage import open_database
from luot.config import SiteConfig
from testbed.broker import Mosquitto
from tools import admin

NOW = datetime(2026, 12, 1, 22, 30)


def test_a_backup_of_the_live_hub_restores_on_a_new_card(
        dispatcher: Dispatcher, broker: Mosquitto, site: SiteConfig, connect, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    kiosk, counter = connect("kiosk-1"), connect("quay-3")
    numbers = [kiosk.request("take", service="HT", citizen=f"hash-{i}")["ticket"]["number"] for i in range(3)]
    called = counter.request("next", counter=3)["ticket"]["number"]
    made = backup(tmp_path / "luot.db", tmp_path / "usb", NOW)  # the dispatcher is running
    assert made.name == "luot-2026-12-01-223000.db"
    copy = sqlite3.connect(made)
    assert copy.execute("SELECT COUNT(*), COUNT(citizen) FROM tickets").fetchone() == (3, 0), \
        "every ticket, no ID-card hash"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete", "one self-contained file"
    copy.close()
    dispatcher.stop()

    new_card = tmp_path / "new-card/var/lib/luot/luot.db"
    assert admin.main(["restore", str(made), "--database", str(new_card)]) == 0
    out = capsys.readouterr().out
    assert f"restored {made} into {new_card}: 3 tickets over 1 days" in out
    hub = Dispatcher(site, new_card, broker.settings("hub"))
    hub.start()
    try:
        wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the restored dispatcher")
        later = kiosk.request("take", service="HT")["ticket"]["number"]
        assert later not in numbers and later > max(numbers), "numbering continues, nothing issued twice"
        wait_for(lambda: (counter.state("state/counter/3") or {}).get("ticket", {}).get("number") == called,
                 what="the restored counter state")
    finally:
        hub.stop()


def test_restore_refuses_what_it_should(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = tmp_path / "luot.db"
    open_database(live).close()
    made = backup(live, tmp_path / "b", NOW)
    with pytest.raises(BackupError, match="exists: stop luot-dispatcher, then give --force"):
        restore(made, live)
    assert "the previous database is kept as" in restore(made, live, force=True)
    assert list(tmp_path.glob("luot.db.before-restore-*"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert admin.main(["restore", str(junk), "--database", str(tmp_path / "x.db")]) == 1
    assert "not a readable SQLite database" in capsys.readouterr().out
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError, match="not a Lượt database"):
        restore(other, tmp_path / "y.db")
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "y.db").exists()


def test_backup_while_writes_go_on_is_consistent(tmp_path: Path) -> None:
    live = tmp_path / "luot.db"
    db = open_database(live)
    db.execute("CREATE TABLE burst (n INTEGER PRIMARY KEY, pad TEXT)")
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            db.execute("INSERT INTO burst (pad) VALUES (?)", ("x" * 2000,))
            written[0] += 1

    for _ in range(2000):
        db.execute("INSERT INTO burst (pad) VALUES (?)", ("x" * 2000,))
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = backup(live, tmp_path / "b", NOW)
    finally:
        stop.set()
        thread.join()
    rows = sqlite3.connect(made).execute("SELECT COUNT(*), MAX(n) FROM burst").fetchone()
    assert rows[0] == rows[1] >= 2000, "a snapshot: no gap, no half transaction"
    assert written[0] > 0


def test_old_backups_are_pruned_the_newest_stays(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    for day in ("2026-11-01", "2026-11-17", "2026-11-18", "2026-12-01"):
        (folder / f"luot-{day}-223000.db").write_bytes(b"")
    (folder / "notes.txt").write_text("the technician's")
    removed = prune(folder, 14, date(2026, 12, 1))
    assert sorted(p.name for p in removed) == ["luot-2026-11-01-223000.db", "luot-2026-11-17-223000.db"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "luot-2026-11-18-223000.db", "luot-2026-12-01-223000.db", "notes.txt"]
    assert [p.name for p in prune(folder, 1, date(2027, 6, 1))] == ["luot-2026-11-18-223000.db"]
    assert (folder / "luot-2026-12-01-223000.db").exists(), "never the last backup"


def hub_toml(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(f'id = "hub"\nrole = "hub"\nsite = "test-ward"\n\n[broker]\nhost = "localhost"\n'
                    f'password = "x"\n\n[hub]\nsite_file = "{SITE_FILE}"\n'
                    f'database = "{tmp_path / "luot.db"}"\n'
                    f'\n[hub.backup]\nfolder = "{tmp_path / "usb"}"\nkeep_days = 7\n' + extra)
    return path


def test_the_nightly_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    open_database(tmp_path / "luot.db").close()
    assert main(["--config", str(hub_toml(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "retention: 0 ID-card hashes and 0 tickets erased" in out and "backup " in out
    assert len(list((tmp_path / "usb").glob("luot-*.db"))) == 1
    (tmp_path / "hub.toml").unlink()
    assert main(["--config", str(hub_toml(tmp_path, "[hub.retention]\ncitizen_dayz = 2\n"))]) == 2
    assert "hub.retention.citizen_dayz: unknown key; did you mean 'citizen_days'?" in capsys.readouterr().out
