"""`luot report` on a database whose figures are checked by hand.

The day is played through the real QueueBook with a FakeClock, so the
tables are exactly what the dispatcher writes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from helpers import SITE_FILE, FakeClock
from report_rig import TZ, Desk, rows

from dispatcher.storage import open_database
from luot.stats import satisfied_pct
from tools.report import main, percentile, report_figures


@pytest.fixture
def database(tmp_path, site) -> Path:
    """Two days at the test ward, every figure below worked out by hand."""
    path = tmp_path / "luot.db"
    db = open_database(path)
    clock = FakeClock(datetime(2026, 11, 20, 8, 0, tzinfo=TZ))
    d = Desk(db, site, clock)
    # Friday 20 November.
    a001 = d.at("08:00", "kiosk-1", "take", service="CT")["ticket"]
    d.at("08:02", "kiosk-1", "take", service="CT")                          # A002
    d.at("08:05", "kiosk-1", "take", service="HT")                          # B001
    d.at("08:10", "quay-1", "next", counter=1)                              # A001 waited 10
    b001 = d.at("08:12", "quay-3", "next", counter=3)["ticket"]             # B001 waited 7
    d.at("08:16", "quay-1", "next", counter=1)                              # A001 served in 6; A002 waited 14
    d.at("08:20", "quay-1", "rate", counter=1, ticket=a001["id"], score=5)
    d.at("08:22", "quay-3", "next", counter=3)                              # B001 served in 10
    d.at("08:23", "quay-3", "rate", counter=3, ticket=b001["id"], score=2)
    d.at("08:25", "quay-1", "noshow", counter=1)                            # A002 no-show after 9
    d.at("08:30", "kiosk-1", "take", service="CT")                          # A003 never called
    d.at("08:40", "kiosk-2", "take", service="HT")                          # B002
    d.at("08:45", "quay-3", "next", counter=3)                              # B002 waited 5
    d.at("08:50", "quay-3", "done", counter=3)                              # B002 served in 5
    # Saturday 21 November.
    clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=TZ)
    d.at("09:00", "kiosk-1", "take", service="DD")                          # 3001
    ticket = d.at("09:03", "quay-4", "next", counter=4)["ticket"]           # waited 3
    d.at("09:18", "quay-4", "done", counter=4)                              # served in 15
    d.at("09:19", "quay-4", "rate", counter=4, ticket=ticket["id"], score=4)
    db.close()
    return path


def test_one_day_figures_match_the_hand_count(database, site):
    figures = report_figures(database, "2026-11-20", "2026-11-20", site)
    ct, ht, dd = figures.services
    assert (ct.code, ct.issued, ct.served, ct.noshow, ct.unserved) == ("CT", 3, 1, 1, 1)
    assert (ct.wait_mean_min, ct.wait_p90_min, ct.wait_max_min) == (12.0, 14.0, 14.0)
    assert ct.service_mean_min == 6.0 and ct.ratings == {5: 1}
    assert (ht.issued, ht.served, ht.wait_mean_min, ht.wait_p90_min) == (2, 2, 6.0, 7.0)
    assert ht.service_mean_min == 7.5
    assert ht.ratings == {2: 1} and ht.rating_mean == 2.0
    assert dd.issued == 0 and dd.wait_mean_min is None
    total = figures.total
    assert (total.issued, total.served, total.noshow) == (5, 3, 1)
    assert (total.wait_mean_min, total.wait_p90_min, total.wait_max_min) == (9.0, 14.0, 14.0)

    by_number = {c.counter: c for c in figures.counters}
    one, three = by_number[1], by_number[3]
    assert (one.called, one.served, one.noshow, one.busy_min, one.idle_min) == (2, 1, 1, 15.0, 0.0)
    assert (three.called, three.served, three.busy_min, three.idle_min) == (2, 2, 15.0, 23.0)
    assert three.utilisation == pytest.approx(15 / 38, abs=0.001)
    assert by_number[2].called == 0 and by_number[2].utilisation is None
    assert figures.per_hour == {8: {"CT": 3, "HT": 2}}


def test_a_range_of_days_adds_up_and_yesterdays_line_is_expired(database, site):
    figures = report_figures(database, "2026-11-20", "2026-11-21", site)
    assert figures.total.issued == 6
    assert figures.total.wait_mean_min == pytest.approx((10 + 14 + 7 + 5 + 3) / 5, abs=0.01)
    assert figures.total.ratings == {5: 1, 4: 1, 2: 1}
    assert figures.total.rating_mean == 3.67 and round(satisfied_pct(figures.total.ratings), 1) == 66.7
    dd = figures.services[2]
    assert (dd.issued, dd.served, dd.wait_mean_min, dd.service_mean_min) == (1, 1, 3.0, 15.0)
    assert figures.services[0].unserved == 1  # A003, expired when Saturday began
    assert figures.per_hour == {8: {"CT": 3, "HT": 2}, 9: {"DD": 1}}


def test_the_command_writes_csv_and_a_one_page_summary(database, tmp_path, artifacts, capsys):
    out = tmp_path / "report"
    code = main(["--db", str(database), "--site", str(SITE_FILE), "--from", "2026-11-20",
                 "--to", "2026-11-21", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "6 tickets, 4 served" in printed and "summary.png" in printed
    services = {r["Mã (code)"]: r for r in rows(out / "services.csv")}
    assert services["CT"]["Lĩnh vực (service)"] == "Chứng thực"
    assert services["CT"]["Chờ p90, phút (wait p90, min)"] == "14.0"
    assert services["*"]["Rất hài lòng (Very satisfied)"] == "1"
    assert services["*"]["Không hài lòng (Dissatisfied)"] == "1"
    counters = {r["Quầy (counter)"]: r for r in rows(out / "counters.csv")}
    assert counters["3"]["Trống, phút (idle, min)"] == "23.0"
    hours = rows(out / "hours.csv")
    assert hours[0]["Giờ (hour)"] == "08:00" and hours[0]["Tổng (total)"] == "5"
    png = out / "summary.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (artifacts / "report-summary.png").write_bytes(png.read_bytes())


def test_the_latest_day_is_the_default(database, tmp_path, capsys):
    assert main(["--db", str(database), "--site", str(SITE_FILE), "--out", str(tmp_path / "r")]) == 0
    assert "1 tickets, 1 served" in capsys.readouterr().out


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile(list(map(float, range(1, 11))), 90) == 9.0
    assert percentile(list(map(float, range(1, 11))), 100) == 10.0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--day", "2026-11-20", "--from", "2026-11-20", "--to", "2026-11-21"], "either --day"),
        (["--from", "2026-11-20"], "go together"),
        (["--from", "2026-11-22", "--to", "2026-11-21"], "is after"),
    ],
)
def test_bad_options_are_refused_plainly(database, tmp_path, capsys, args, words):
    assert main(["--db", str(database), "--out", str(tmp_path / "r"), *args]) == 2
    assert words in capsys.readouterr().out


def test_a_bad_date_missing_or_foreign_database_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--db", "x.db", "--day", "20/11/2026"])
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err
    assert main(["--db", str(tmp_path / "none.db")]) == 2
    assert "no such database" in capsys.readouterr().out
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert main(["--db", str(junk), "--out", str(tmp_path / "r")]) == 2
    assert "not a Lượt database" in capsys.readouterr().out
    empty = tmp_path / "empty.db"
    open_database(empty).close()
    assert main(["--db", str(empty), "--out", str(tmp_path / "r")]) == 2
    assert "no tickets yet" in capsys.readouterr().out
    bad_site = tmp_path / "site.toml"
    bad_site.write_text("[site]\n")
    assert main(["--db", str(empty), "--site", str(bad_site)]) == 2
    assert "configuration error" in capsys.readouterr().out
