"""What the fault drills check: the truth in the database against what every client was told and shows.

The drills themselves are `bench.faults`; their tests use these checkers too.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sqlite3
import struct
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from escpos.printer import Dummy

from kiosk.printer import PrintFault, TicketPrinter, job_bytes
from luot import protocol as p
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from testbed.centre import LocalCentre, wait_until

CONVERGE_S = 5.0
ANSWER_WITHIN_S = 60.0


@dataclass
class Tally:
    """What the drills found; every count but `trials` should be 0."""

    trials: int = 0
    lost: int = 0
    duplicates: int = 0
    double_called: int = 0
    stuck: int = 0
    refused: int = 0  # valid commands refused (stale, forbidden…): a bug if not 0
    commands: int = 0  # valid commands answered
    resent: int = 0  # sends of a command again under its id, after no answer
    kills: int = 0  # dispatcher processes killed with SIGKILL
    bad_sent: int = 0  # malformed, oversized or forbidden payloads sent
    bad_answered: int = 0  # of those, answered with an error reply
    crashes: int = 0  # the dispatcher process exited without being told to
    late_effects: int = 0  # a command carried out after its sender was told it failed
    unanswered: int = 0  # a command that got neither a reply nor an expiry
    notes: list[str] = field(default_factory=list)

    COUNTS = ("lost", "duplicates", "double_called", "stuck", "refused", "crashes", "late_effects",
              "unanswered")

    def stuck_because(self, note: str) -> None:
        """A drill's own check failed: counted as stuck, with what it saw."""
        self.stuck += 1
        self.notes.append(note)

    def clean(self) -> bool:
        """Every count that must be 0 is 0."""
        return not any(getattr(self, name) for name in self.COUNTS)

    def add(self, other: Tally) -> None:
        for counted in fields(self):
            setattr(self, counted.name, getattr(self, counted.name) + getattr(other, counted.name))


class Stream:
    """Takes at the kiosk and NEXT at two counters, each sent until answered, same id each time.

    Remembers every acknowledged ticket and every call, to hold against the database. A refusal
    whose code is in `expected` (a drill's own fault: `storage_full`, `clock_unsure`) is
    counted apart; any other refusal of these valid commands is a bug.
    """

    def __init__(self, centre: LocalCentre, rng: random.Random, services: tuple[str, ...] = ("CT", "HT"),
                 counters: tuple[int, ...] = (1, 2), attempt_s: float = 1.0,
                 answer_within_s: float = ANSWER_WITHIN_S, expected: frozenset[str] = frozenset()) -> None:
        self.expected = expected
        self.refusals: Counter[str] = Counter()
        self.unanswered = 0
        # Tickets another client took, and counters another client drives (a hostile flood
        # among the stream): not the stream's to account for.
        self.foreign_tickets: set[int] = set()
        self.foreign_counters: set[int] = set()
        self.centre = centre
        self.attempt_s = attempt_s
        self.answer_within_s = answer_within_s
        self.rng = rng
        self.services = services
        self.kiosk = centre.link(centre.device_ids("kiosk")[0])
        self.counters = {n: centre.link(centre.counter_device(n)) for n in counters}
        self.current: dict[int, int | None] = dict.fromkeys(counters)
        self.taken: dict[int, str] = {}  # ticket id → number, as acknowledged
        self.numbers: Counter[str] = Counter()
        self.called: dict[int, set[int]] = defaultdict(set)  # ticket id → counters that got it
        self.sent = 0
        self.resent = 0

    def _send(self, link: HubLink, op: str, **fields: Any) -> dict[str, Any] | None:
        command_id = f"drill-{self.sent}-{self.rng.getrandbits(40):010x}"
        self.sent += 1
        deadline = time.monotonic() + self.answer_within_s
        while time.monotonic() < deadline:
            try:
                return link.request(op, timeout=self.attempt_s, command_id=command_id, **fields)
            except HubTimeout:
                self.resent += 1
            except HubUnreachable:
                self.resent += 1
                link.wait_connected(1.0)
            except CommandRefused as e:
                self.refusals[e.code] += 1
                return None
        self.unanswered += 1
        return None

    @property
    def refused(self) -> int:
        """Refusals of these valid commands that the drill did not cause: each one a bug."""
        return sum(n for code, n in self.refusals.items() if code not in self.expected)

    def step(self) -> None:
        if self.rng.random() < 0.6:
            reply = self._send(self.kiosk, "take", service=self.rng.choice(self.services))
            if reply is not None:
                ticket = reply["ticket"]
                self.taken[ticket["id"]] = ticket["number"]
                self.numbers[ticket["number"]] += 1
            return
        number = self.rng.choice(sorted(self.counters))
        reply = self._send(self.counters[number], "next", counter=number, expect=self.current[number])
        if reply is None:
            return
        ticket = reply.get("ticket")
        self.current[number] = ticket["id"] if ticket else None
        if ticket:
            self.called[ticket["id"]].add(number)

    def close(self) -> None:
        for link in [self.kiosk, *self.counters.values()]:
            link.stop()

    def check(self) -> Tally:
        """Hold what was acknowledged against the database."""
        tally = Tally(trials=1, refused=self.refused, commands=self.sent, resent=self.resent,
                      unanswered=self.unanswered)
        db = sqlite3.connect(f"file:{self.centre.database}?mode=ro", uri=True)
        try:
            stored = dict(db.execute("SELECT id, number FROM tickets"))
            issued = db.execute(
                "SELECT day, number, COUNT(*) FROM tickets GROUP BY day, number HAVING COUNT(*) > 1"
            ).fetchall()
            gaps = db.execute(
                "SELECT day, issued_service, MAX(seq), COUNT(*) FROM tickets GROUP BY day, issued_service"
            ).fetchall()
            foreign = ",".join(str(int(n)) for n in self.foreign_counters) or "NULL"
            first_calls = db.execute(
                "SELECT ticket, COUNT(DISTINCT counter) FROM calls WHERE recall = 0 AND ticket NOT IN"
                f" (SELECT ticket FROM calls WHERE counter IN ({foreign})) GROUP BY ticket"
            ).fetchall()
        finally:
            db.close()
        tally.lost = sum(stored.get(t) != n for t, n in self.taken.items())
        tally.duplicates = len(issued) + sum(n - 1 for n in self.numbers.values() if n > 1)
        tally.duplicates += sum(top != count for _, _, top, count in gaps)  # a skipped number
        # A resent take that took twice:
        tally.duplicates += max(0, len(stored) - len(self.taken) - len(self.foreign_tickets))
        tally.double_called = sum(len(c) > 1 for c in self.called.values())
        tally.double_called += sum(n > 1 for _, n in first_calls)
        return tally


def truth(centre: LocalCentre) -> dict[str, Any]:
    """What the retained state must say, read straight from the database."""
    db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
    try:
        serving = dict(db.execute("SELECT counter, id FROM tickets WHERE status = 'serving'"))
        waiting = dict(db.execute(
            "SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service"
        ))
    finally:
        db.close()
    return {
        "counters": {c.number: serving.get(c.number) for c in centre.site.counters},
        "waiting": {s.code: waiting.get(s.code, 0) for s in centre.site.services},
    }


def seen_by(link: HubLink, centre: LocalCentre) -> dict[str, Any]:
    counters = {}
    for c in centre.site.counters:
        state = link.state(p.counter_state(c.number)) or {}
        counters[c.number] = (state.get("ticket") or {}).get("id")
    waiting = {s.code: (link.state(p.service_state(s.code)) or {}).get("waiting", -1)
               for s in centre.site.services}
    return {"counters": counters, "waiting": waiting}


def converged(link: HubLink, centre: LocalCentre, within: float = CONVERGE_S) -> bool:
    """Whether the client's retained state matches the database within `within` seconds."""
    return wait_until(lambda: seen_by(link, centre) == truth(centre), within, step=0.05)


class Cable:
    """A TCP proxy in front of the broker that can be pulled out and plugged back like a cable.

    Pulled, it resets every connection through it and refuses new ones; the client sees a
    real network cut and has to find its way back by itself.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pulled = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.pulled:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def pull(self) -> None:
        self.pulled = True
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                # A reset, as when a switch port or an access point drops the link. shutdown()
                # first: it wakes the pump blocked in recv(), which close() alone would not.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def plug(self) -> None:
        self.pulled = False

    def close(self) -> None:
        self.pull()
        self.listener.close()


class BoardWatch:
    """What the real display process shows on its counter cards, from its `--frame-log`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cards: dict[int, str | None] = {}
        self._offset = 0

    def read(self) -> dict[int, str | None]:
        if self.path.exists():
            with self.path.open() as f:
                f.seek(self._offset)
                for line in f:
                    if not line.endswith("\n"):
                        break
                    self._offset += len(line.encode())
                    frame = json.loads(line)
                    self.cards.update({int(k): v for k, v in frame["cards"].items()})
        return self.cards


def board_truth(centre: LocalCentre) -> dict[int, str | None]:
    db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
    try:
        serving = dict(db.execute("SELECT counter, number FROM tickets WHERE status = 'serving'"))
    finally:
        db.close()
    return {c.number: serving.get(c.number) for c in centre.site.counters}


class JammingPrinter(TicketPrinter):
    """A printer that takes half of a ticket's bytes and then stops answering, when told to."""

    def __init__(self) -> None:
        super().__init__("TM-T88V", "drill://jamming")
        self.jam_next = False
        self.paper = Dummy(profile="TM-T88V")

    def _send(self, image: Any, number: str) -> None:
        job = job_bytes(image, "TM-T88V")
        if self.jam_next:
            self.jam_next = False
            self.paper._raw(job[: len(job) // 2])
            raise PrintFault("not_answering", f"the printer stopped in the middle of ticket {number}")
        self.paper._raw(job)
