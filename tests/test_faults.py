"""The other fault drills of bench.faults, short, and proof that their checks catch a fault."""

from __future__ import annotations

import random
import sqlite3

from helpers import SITE_FILE

from bench.faults.corpus import draw_corpus, hostile_corpus, sendings
from bench.faults.peers import dispatcher_away, printer_fails, take_client_ids
from bench.faults.processes import cut_display, running_centre
from testbed.faults import Stream, converged


def clean(tally) -> bool:
    return tally.clean()


def test_a_hostile_corpus_from_three_devices_is_answered_and_leaves_the_dispatcher_serving(tmp_path):
    corpus = draw_corpus(300, seed=1)
    tally = hostile_corpus(tmp_path, random.Random(1), corpus, commands=40)
    assert tally.commands >= 40
    assert tally.bad_answered == tally.bad_sent == 3 * len(sendings(corpus)) > 3 * 300
    assert clean(tally), tally.notes


def test_a_press_reported_failed_while_the_dispatcher_is_frozen_never_happens_later(tmp_path):
    """SIGSTOP: the dispatcher's connection stays open and the broker goes on delivering to it,
    so commands wait on its socket past their expiry; read after SIGCONT, they are refused."""
    tally = dispatcher_away(tmp_path, random.Random(2), presses=5, frozen=True)
    assert tally.late_effects == 0 and clean(tally), tally


def test_taking_the_dispatchers_or_a_devices_client_id_pushes_nobody_off(tmp_path):
    tally = take_client_ids(tmp_path, random.Random(5), commands=60)
    assert clean(tally) and tally.commands >= 60, tally.notes


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
