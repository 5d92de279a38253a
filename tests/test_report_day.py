"""The report of a real day: refusals counted, the lunch break no counter idle time, and the
names of the day's catalogue without the site file."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers import FakeClock, wait_for
from report_rig import TZ, Desk, rows

from dispatcher.storage import open_database
from luot import EXAMPLE_SITE
from luot.config import load_site
from luot.mqtt import CommandRefused
from tools.report import main, report_figures


def test_refusals_are_kept_and_counted(dispatcher, connect, tmp_path):
    kiosk = connect("kiosk-1")
    for _ in range(5):
        kiosk.request("take", service="DD")  # DD gives 5 numbers a day
    for _ in range(2):
        with pytest.raises(CommandRefused) as refused:
            kiosk.request("take", service="DD")
        assert refused.value.code == "cap_reached"
    database = tmp_path / "luot.db"
    wait_for(lambda: open_database(database).execute("SELECT COUNT(*) FROM refusals").fetchone()[0] == 2,
             what="the two refusals stored")
    reason = open_database(database).execute("SELECT DISTINCT reason, service FROM refusals").fetchall()
    assert [tuple(r) for r in reason] == [("cap_reached", "DD")]
    out = tmp_path / "report"
    assert main(["--db", str(database), "--out", str(out)]) == 0
    table = {r["Mã (code)"]: r for r in rows(out / "services.csv")}
    assert table["DD"]["Bị từ chối (refused)"] == "2" and table["*"]["Bị từ chối (refused)"] == "2"
    # No --site and no /etc/luot/site.toml: the names come from the catalogue kept with the day.
    assert table["DD"]["Lĩnh vực (service)"] == "Đất đai"


def test_the_lunch_break_is_not_counter_idle_time(tmp_path):
    """The example ward takes numbers 07:30–11:30 and 13:30–16:30. Counter 1 serves 08:00–08:10
    and 13:40–13:50: its span 08:00–13:50 is 350 minutes, of which 20 busy and 120 the break."""
    site = load_site(EXAMPLE_SITE)
    path = tmp_path / "luot.db"
    db = open_database(path)
    d = Desk(db, site, FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ)))
    d.at("08:00", "admin", "open")
    d.at("08:00", "kiosk-1", "take", service="CT")
    d.at("08:00", "quay-1", "next", counter=1)
    d.at("08:10", "quay-1", "done", counter=1)
    d.at("13:40", "kiosk-1", "take", service="CT")
    d.at("13:40", "quay-1", "next", counter=1)
    d.at("13:50", "quay-1", "done", counter=1)
    db.close()
    figures = report_figures(path, "2026-11-23", "2026-11-23", site)
    counter = next(c for c in figures.counters if c.counter == 1)
    assert (counter.busy_min, counter.idle_min) == (20.0, 350 - 20 - 120)
    # Without the site file, the same from the catalogue the dispatcher kept with the day.
    kept = next(c for c in report_figures(path, "2026-11-23", "2026-11-23", None).counters if c.counter == 1)
    assert (kept.name, kept.idle_min) == (counter.name, counter.idle_min)
