"""The dispatcher process killed with SIGKILL at random points of a stream of takes and
nexts, and started again: no acknowledged ticket is lost, no number is issued twice or
skipped, no ticket is called to two counters, and a display converges to the database.

Clients send each command until it is answered, with the same id each time; the dispatcher
keeps its broker session, so commands it had not acknowledged are delivered again."""

from __future__ import annotations

import random

from bench.faults.processes import kill_dispatcher


def test_sigkill_mid_stream_loses_nothing_and_issues_nothing_twice(tmp_path):
    tally = kill_dispatcher(tmp_path, random.Random(3), commands=150, times=3)
    assert tally.kills == 3
    assert tally.commands >= 150
    assert tally.clean(), tally

