"""Drills where the hub's machine fails under the dispatcher: its card fills up, its clock
jumps. The dispatcher must stay up, store nothing it cannot keep, give no number on a clock
it cannot trust, and never expire a day's waiting tickets because the date moved."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from bench.common import BENCH_SITE
from bench.faults.processes import running_centre, stream_tally, watched_stream
from dispatcher.clock import ClockGuard
from dispatcher.service import Dispatcher
from luot import protocol as p
from luot.mqtt import CommandRefused
from testbed.centre import LocalCentre, wait_until
from testbed.faults import Stream, Tally, converged

CARD_MB = 24


@contextlib.contextmanager
def small_card(folder: Path) -> Iterator[Path]:
    """A tmpfs of CARD_MB mounted at `folder`: a card that can really fill up (needs root)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={CARD_MB}m", "tmpfs", str(folder)], check=True,
                   capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def _fill(folder: Path) -> Path:
    """Write a file until the card refuses another byte."""
    filler = folder / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    return filler


def full_card(workdir: Path, rng: random.Random, commands: int) -> Tally:
    """The hub's card fills up in the middle of the day, then an officer makes room."""
    if os.geteuid() != 0:
        return Tally(notes=["full_card: skipped, mounting a small card (tmpfs) needs root"])
    with small_card(workdir / "card") as card, running_centre(card) as centre, watched_stream(
            centre, rng, "admin", expected=frozenset({p.STORAGE_FULL})) as (stream, watch):
        for _ in range(commands // 3):
            stream.step()
        filler = _fill(card)
        for _ in range(commands):
            stream.step()
            if stream.refusals[p.STORAGE_FULL] >= 5:
                break
        full = stream.refusals[p.STORAGE_FULL]
        filler.unlink()
        for _ in range(commands // 3):
            stream.step()
        tally = stream_tally(stream)
        if not full:
            tally.stuck_because("full_card: the card filled, yet no command was refused storage_full")
        if not converged(watch, centre):
            tally.stuck_because("full_card: the retained state did not converge once there was room")
        return tally


def _admin_confirms(centre: LocalCentre) -> None:
    admin = centre.link(centre.device_ids("admin")[0])
    try:
        admin.request("confirm_clock", timeout=5.0)
    finally:
        admin.stop()


def clock_jumps(workdir: Path, rng: random.Random, commands: int, *, synchronised: bool) -> Tally:
    """The real dispatcher on a wall clock the drill moves (its monotonic clock goes on as it
    should): days ahead in the middle of the day, then back. Numbers stop at the jump and
    start again only when the admin confirms; no waiting ticket expires, no day is rolled.
    `synchronised`: the kernel says a time server keeps the clock; otherwise the clock is
    trusted by the admin's confirmation alone (a hub with no time server on its LAN)."""
    centre = LocalCentre(workdir, BENCH_SITE, midday=True)
    centre.start_broker()
    offset = [timedelta(0)]
    hub = Dispatcher(centre.site, centre.database, centre.broker.settings(centre.hub_id),
                     device_id=centre.hub_id, clock=lambda: centre.site.now() + offset[0],
                     clock_guard=ClockGuard(synchronised=lambda: synchronised))
    hub.start()
    stream: Stream | None = None
    tally = Tally(trials=1)
    try:
        if not synchronised:
            _admin_confirms(centre)
        stream = Stream(centre, rng, expected=frozenset({p.CLOCK_UNSURE}))
        for _ in range(commands // 2):
            stream.step()
        answered = stream.sent - sum(stream.refusals.values())
        offset[0] = timedelta(days=rng.choice((1, 3, 6)), hours=rng.uniform(0, 5))
        held = wait_until(lambda: _refused(stream, p.CLOCK_UNSURE), 10.0)
        before = stream.sent - sum(stream.refusals.values())
        for _ in range(commands // 4):
            stream.step()
        offset[0] = timedelta(0)  # back, by hand or by a time server: still held until confirmed
        for _ in range(commands // 4):
            stream.step()
        given_while_held = stream.sent - sum(stream.refusals.values()) - before
        _admin_confirms(centre)
        for _ in range(commands // 2):
            stream.step()
        tally = stream.check()
        db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
        try:
            expired = db.execute("SELECT COUNT(*) FROM tickets WHERE status = 'expired'").fetchone()[0]
            days = db.execute("SELECT COUNT(*) FROM days").fetchone()[0]
        finally:
            db.close()
        tally.lost += expired
        if not held or given_while_held or days != 1 or not answered:
            tally.stuck_because(f"clock_jumps: held {held}, {given_while_held} answered while held, "
                                f"{days} days, {expired} expired")
    finally:
        if stream is not None:
            stream.close()
        hub.stop()
        centre.stop()
    return tally


def _refused(stream: Stream, code: str) -> bool:
    """Whether a take now is refused with `code`: a probe outside the stream's count (a number
    it takes is the stream's to account for as another client's)."""
    try:
        reply = stream.kiosk.request("take", timeout=2.0, service=stream.services[0])
    except CommandRefused as e:
        return e.code == code
    stream.foreign_tickets.add(reply["ticket"]["id"])
    return False
