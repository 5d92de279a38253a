"""The other fault drills of bench.faults, short, and proof that their checks catch a fault."""

from __future__ import annotations

import random
import sqlite3

from helpers import SITE_FILE

from bench.faults import cut_display, flood, printer_fails, running_centre
from luot.config import load_site
from testbed.faults import Stream, converged


def clean(tally) -> bool:
    return (tally.lost, tally.duplicates, tally.double_called, tally.stuck, tally.refused) == (0, 0, 0, 0, 0)


def test_bad_payloads_on_every_command_topic_leave_the_dispatcher_serving(tmp_path):
    tally = flood(tmp_path, random.Random(1), per_topic=150, commands=40)
    assert tally.commands >= 40
    # Every device of the test site but the hub, the admin and the stream's kiosk and counters
    # (one connection per device: the broker binds client ids to users).
    devices = len(load_site(SITE_FILE).devices) - 5
    assert devices >= 10 and tally.bad_answered == tally.bad_sent == 150 * devices
    assert clean(tally), tally.notes


def test_a_printer_failing_mid_ticket_loses_no_number_and_reports_it(tmp_path):
    tally = printer_fails(tmp_path, random.Random(2), tickets=6)
    assert clean(tally), tally.notes


def test_a_display_cut_off_and_back_converges(tmp_path):
    tally = cut_display(tmp_path, random.Random(3), commands=45)
    assert clean(tally), tally.notes


def test_the_checks_catch_a_lost_ticket_a_double_call_and_a_stale_display(tmp_path):
    with running_centre(tmp_path, SITE_FILE) as centre:
        stream = Stream(centre, random.Random(4))
        display = centre.link("tv-1")
        try:
            for _ in range(30):
                stream.step()
            assert clean(stream.check())
            assert converged(display, centre)
            taken = next(iter(stream.taken))
            stream.called[taken] |= {1, 2}
            db = sqlite3.connect(centre.database)
            db.execute("PRAGMA foreign_keys=OFF")
            # The first ticket still waiting: lost, and a gap in its service's numbers.
            db.execute(
                "DELETE FROM tickets WHERE id = (SELECT MIN(id) FROM tickets WHERE status = 'waiting')"
            )
            db.commit()
            db.close()
            tally = stream.check()
            assert tally.lost == 1 and tally.double_called == 1 and tally.duplicates == 1
            assert not converged(display, centre, within=0.3)
        finally:
            display.stop()
            stream.close()
