"""Fault drills: the centre keeps every promise while its parts fail.

`.venv/bin/python -m bench.faults [--quick]`, last line JSON. For N trials each:
- the dispatcher (its own process) killed with SIGKILL at random points of a
  stream of takes and nexts, then started again;
- Mosquitto restarted in the middle of the stream (stopped, or SIGKILLed
  every other trial so it keeps only what it had saved);
- the real `luot display` process cut off from the network (a proxy in front
  of the broker is pulled like a cable) while calls go on, then plugged back;
- a kiosk printer that fails in the middle of a ticket;
- malformed and oversized payloads on every device's command topic, among
  valid commands.

Counted over all drills: `lost` (an acknowledged ticket missing from the
database, or with another number), `duplicates` (a number issued twice),
`double_called` (one ticket called to two counters), `stuck` (a client whose
retained state, or the display's board, did not match the database within 5 s
of recovery; or a bad payload left without its error reply). The
target is 0 for each. Clients send each command until it is answered, with the
same id every time: the dispatcher answers a repeated id with its stored reply.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from escpos.printer import Dummy

from bench.common import BENCH_SITE, emit, parse_args
from kiosk.desk import ISSUED, PRINT_FAULT, PRINTED, TakeRequest, TicketDesk
from kiosk.printer import PrintFault, TicketPrinter, job_bytes
from luot.centre import LocalCentre, wait_until
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable, make_paho_client, unique_client_id
from luot.protocol import Topics
from luot.supervisor import stop_process

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
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.trials += other.trials
        self.lost += other.lost
        self.duplicates += other.duplicates
        self.double_called += other.double_called
        self.stuck += other.stuck
        self.refused += other.refused
        self.commands += other.commands
        self.resent += other.resent
        self.kills += other.kills
        self.bad_sent += other.bad_sent
        self.bad_answered += other.bad_answered
        self.notes += other.notes


class Stream:
    """Takes at the kiosk and NEXT at two counters, each sent until answered, same id each time.

    Remembers every acknowledged ticket and every call, to hold against the database.
    """

    def __init__(self, centre: LocalCentre, rng: random.Random, services: tuple[str, ...] = ("CT", "HT"),
                 counters: tuple[int, ...] = (1, 2), attempt_s: float = 1.0) -> None:
        self.centre = centre
        self.attempt_s = attempt_s
        self.rng = rng
        self.services = services
        self.kiosk = centre.link(centre.device_ids("kiosk")[0])
        self.counters = {n: centre.link(centre.counter_device(n)) for n in counters}
        self.current: dict[int, int | None] = dict.fromkeys(counters)
        self.taken: dict[int, str] = {}  # ticket id → number, as acknowledged
        self.numbers: Counter[str] = Counter()
        self.called: dict[int, set[int]] = defaultdict(set)  # ticket id → counters that got it
        self.refused = 0
        self.sent = 0
        self.resent = 0

    def _send(self, link: HubLink, op: str, **fields: Any) -> dict[str, Any] | None:
        command_id = f"drill-{self.sent}-{self.rng.getrandbits(40):010x}"
        self.sent += 1
        deadline = time.monotonic() + ANSWER_WITHIN_S
        while time.monotonic() < deadline:
            try:
                return link.request(op, timeout=self.attempt_s, command_id=command_id, **fields)
            except HubTimeout:
                self.resent += 1
            except HubUnreachable:
                self.resent += 1
                link.wait_connected(1.0)
            except CommandRefused:
                self.refused += 1
                return None
        raise RuntimeError(f"{op} {command_id} got no answer in {ANSWER_WITHIN_S:.0f} s")

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
        tally = Tally(trials=1, refused=self.refused, commands=self.sent, resent=self.resent)
        db = sqlite3.connect(f"file:{self.centre.database}?mode=ro", uri=True)
        try:
            stored = dict(db.execute("SELECT id, number FROM tickets"))
            issued = db.execute(
                "SELECT day, number, COUNT(*) FROM tickets GROUP BY day, number HAVING COUNT(*) > 1"
            ).fetchall()
            gaps = db.execute(
                "SELECT day, issued_service, MAX(seq), COUNT(*) FROM tickets GROUP BY day, issued_service"
            ).fetchall()
            first_calls = db.execute(
                "SELECT ticket, COUNT(DISTINCT counter) FROM calls WHERE recall = 0 GROUP BY ticket"
            ).fetchall()
        finally:
            db.close()
        tally.lost = sum(stored.get(t) != n for t, n in self.taken.items())
        tally.duplicates = len(issued) + sum(n - 1 for n in self.numbers.values() if n > 1)
        tally.duplicates += sum(top != count for _, _, top, count in gaps)  # a skipped number
        tally.duplicates += max(0, len(stored) - len(self.taken))  # a resent take that took twice
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
        state = link.state(f"state/counter/{c.number}") or {}
        counters[c.number] = (state.get("ticket") or {}).get("id")
    waiting = {s.code: (link.state(f"state/service/{s.code}") or {}).get("waiting", -1)
               for s in centre.site.services}
    return {"counters": counters, "waiting": waiting}


def converged(link: HubLink, centre: LocalCentre, within: float = CONVERGE_S) -> bool:
    """Whether the client's retained state matches the database within `within` seconds."""
    return wait_until(lambda: seen_by(link, centre) == truth(centre), within, step=0.05)


@contextmanager
def running_centre(workdir: Path, site_file: Path = BENCH_SITE) -> Iterator[LocalCentre]:
    centre = LocalCentre(workdir, site_file, midday=True)
    centre.start_broker()
    centre.start_dispatcher()
    try:
        yield centre
    finally:
        centre.stop()


# --------------------------------------------------------------------------- the drills


def kill_dispatcher(workdir: Path, rng: random.Random, commands: int, times: int) -> Tally:
    """SIGKILL the dispatcher at random moments of the stream; start it again each time."""
    with running_centre(workdir) as centre:
        # A short wait for each answer: while the dispatcher is down, commands are sent again
        # under the same id and reach it twice (once redelivered by the broker).
        stream = Stream(centre, rng, attempt_s=0.3)
        display = centre.link(centre.device_ids("display")[0])
        kills = 0
        done = threading.Event()

        def killer() -> None:
            nonlocal kills
            for _ in range(times):
                if done.wait(rng.uniform(0.05, 0.6)):
                    return
                assert centre.dispatcher is not None
                centre.dispatcher.send_signal(signal.SIGKILL)
                centre.dispatcher.wait()
                time.sleep(rng.uniform(0.0, 0.2))
                kills += 1
                centre.start_dispatcher()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            for _ in range(commands):
                stream.step()
            thread.join()
            while thread.is_alive():
                stream.step()
            tally = stream.check()
            tally.kills = kills
            if not converged(display, centre):
                tally.stuck += 1
                tally.notes.append("kill_dispatcher: the display did not converge")
        finally:
            done.set()
            thread.join()
            display.stop()
            stream.close()
        return tally


def restart_broker(workdir: Path, rng: random.Random, commands: int, *, hard: bool = False) -> Tally:
    """Stop and start Mosquitto in the middle of the stream; `hard`: SIGKILL, so it keeps
    nothing it had not saved (retained state, queued commands, sessions since its last save)."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        display = centre.link(centre.device_ids("display")[0])
        try:
            cut_at = rng.randrange(commands // 4, commands * 3 // 4)
            for i in range(commands):
                if i == cut_at and hard:
                    assert centre.broker.process is not None
                    centre.broker.process.kill()
                    centre.broker.process.wait()
                    time.sleep(rng.uniform(0.0, 0.5))
                    centre.broker.start()
                elif i == cut_at:
                    centre.broker.restart(down_for=rng.uniform(0.0, 0.5))
                stream.step()
            tally = stream.check()
            for name, link in [("display", display), ("kiosk", stream.kiosk)]:
                if not (link.wait_connected(CONVERGE_S) and converged(link, centre)):
                    tally.stuck += 1
                    tally.notes.append(f"restart_broker: the {name} did not converge")
        finally:
            display.stop()
            stream.close()
        return tally


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


def cut_display(workdir: Path, rng: random.Random, commands: int) -> Tally:
    """The real `luot display` process loses its network (a proxy in front of the broker is
    cut) while calls go on, then gets it back: its board must show the database's calls."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        cable = Cable(centre.broker.host, centre.broker.port)
        display_id = centre.device_ids("display")[0]
        config = centre.device_file(display_id, "[display]\nsound = false\n", port=cable.port)
        frames = workdir / "frames.jsonl"
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
               "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        log = (workdir / "display.log").open("wb")
        display = subprocess.Popen(
            [sys.executable, "-m", "luot", "display", "--config", str(config), "--windowed",
             "--size", "1280x720", "--frame-log", str(frames)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        board = BoardWatch(frames)
        tally = Tally()
        try:
            if not wait_until(lambda: board.read() == board_truth(centre), 30, step=0.05):
                raise RuntimeError(f"the display never showed the board: see {workdir / 'display.log'}")
            for _ in range(commands // 3):
                stream.step()
            cable.pull()
            display_log = workdir / "display.log"
            cut_seen = wait_until(lambda: "lost the broker" in display_log.read_text(errors="replace"), 3.0)
            for _ in range(commands // 3):
                stream.step()
            time.sleep(rng.uniform(0.2, 1.0))
            cable.plug()
            back = wait_until(lambda: board.read() == board_truth(centre), CONVERGE_S, step=0.05)
            for _ in range(commands - 2 * (commands // 3)):
                stream.step()
            tally = stream.check()
            if not cut_seen:
                tally.stuck += 1
                tally.notes.append("cut_display: the display never noticed the cut")
            if not (back and wait_until(lambda: board.read() == board_truth(centre), CONVERGE_S, step=0.05)):
                tally.stuck += 1
                tally.notes.append(f"cut_display: the board shows {board.read()}, not {board_truth(centre)}")
        finally:
            stop_process(display)
            log.close()
            cable.close()
            stream.close()
        return tally


def bad_payloads(per_topic: int, rng: random.Random) -> Iterator[bytes]:
    """Not JSON, not UTF-8, too large, wrong types, unknown ops and fields, forbidden ops."""
    makers: list[Callable[[int], bytes]] = [
        lambda i: b"\xff\xfe\x00garbage" + bytes([i % 256]),
        lambda i: b'{"id": "x", "op": "take", "service": ',
        lambda i: b"x" * (4097 + i % 2000),
        lambda i: json.dumps({"id": f"b{i}", "op": "take", "service": "CT", "pad": "é" * 3000}).encode(),
        lambda i: json.dumps([1, 2, 3]).encode(),
        lambda i: json.dumps({"id": i, "op": "take"}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "explode"}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "take", "service": 7}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "next", "counter": True}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "next", "counter": 1, "extra": 1}).encode(),
        lambda i: json.dumps({"id": "", "op": "take", "service": "CT"}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "open", "day": "2026-01-01"}).encode(),
        lambda i: json.dumps({"id": f"b{i}", "op": "transfer", "counter": 99}).encode(),
        lambda i: b"",
    ]
    for i in range(per_topic):
        yield makers[rng.randrange(len(makers))](i)


FLOOD_CHUNK = 500


def _flood_topic(centre: LocalCentre, device: str, count: int, rng: random.Random) -> tuple[int, int]:
    """Bad payloads on `cmd/<device>`, a chunk at a time; returns (sent, error replies received).

    Each chunk waits for its error replies, so the broker's queue for the dispatcher never
    overflows (Mosquitto would drop past `max_queued_messages`) and every payload is judged.
    """
    topics = Topics(centre.site.id)
    answered = 0
    replied = threading.Condition()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        nonlocal answered
        try:
            reply_id = json.loads(msg.payload).get("id")
        except (ValueError, AttributeError):
            return
        if reply_id is None or (isinstance(reply_id, str) and reply_id.startswith("b")):
            with replied:
                answered += 1
                replied.notify_all()

    subscribed = threading.Event()
    client = make_paho_client(centre.broker.settings(device), unique_client_id(device, "flood"))
    client.on_connect = lambda c, *_: c.subscribe(topics.reply(device), qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect(centre.broker.host, centre.broker.port)
    client.loop_start()
    sent = 0
    try:
        if not subscribed.wait(5):
            raise RuntimeError(f"the flood client for {device} could not subscribe")
        payloads = list(bad_payloads(count, rng))
        for start in range(0, len(payloads), FLOOD_CHUNK):
            chunk = payloads[start:start + FLOOD_CHUNK]
            for payload in chunk:
                client.publish(topics.cmd(device), payload, qos=1)
            sent += len(chunk)
            with replied:
                replied.wait_for(lambda target=sent: answered >= target, timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent, answered


def flood(workdir: Path, rng: random.Random, per_topic: int, commands: int) -> Tally:
    """Bad payloads on every device's command topic, with valid commands going on among them."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        display = centre.link(centre.device_ids("display")[0])
        pid = centre.dispatcher.pid if centre.dispatcher else None
        stop = threading.Event()

        def valid() -> None:
            while not stop.is_set():
                stream.step()

        thread = threading.Thread(target=valid, daemon=True)
        thread.start()
        sent = answered = 0
        try:
            for device in centre.site.devices:
                n_sent, n_answered = _flood_topic(centre, device.id, per_topic, rng)
                sent += n_sent
                answered += n_answered
            while stream.sent < commands:
                time.sleep(0.01)
        finally:
            stop.set()
            thread.join()
        try:
            tally = stream.check()
            tally.bad_sent, tally.bad_answered = sent, answered
            if answered < sent:
                tally.stuck += 1
                tally.notes.append(f"flood: {sent - answered} of {sent} bad payloads got no error reply")
            alive = centre.dispatcher is not None and centre.dispatcher.poll() is None
            if not alive or centre.dispatcher is None or centre.dispatcher.pid != pid:
                tally.stuck += 1
                tally.notes.append("flood: the dispatcher did not survive")
            if not converged(display, centre):
                tally.stuck += 1
                tally.notes.append("flood: the display did not converge")
        finally:
            display.stop()
            stream.close()
        return tally


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


def printer_fails(workdir: Path, rng: random.Random, tickets: int) -> Tally:
    """The kiosk's real desk takes numbers while its printer fails in the middle of some tickets."""
    with running_centre(workdir) as centre:
        kiosk_id = centre.device_ids("kiosk")[0]
        link = centre.link(kiosk_id)
        admin = centre.device_ids("admin")[0]
        health: list[dict[str, Any]] = []
        watcher = make_paho_client(centre.broker.settings(admin), unique_client_id(admin, "drill"))
        topic = Topics(centre.site.id).device_health(kiosk_id)
        watcher.on_connect = lambda c, *_: c.subscribe(topic, qos=0)
        watcher.on_message = lambda _c, _u, msg: health.append(json.loads(msg.payload))
        watcher.connect(centre.broker.host, centre.broker.port)
        watcher.loop_start()
        events: list[tuple[str, Any]] = []
        printer = JammingPrinter()
        desk = TicketDesk(link, printer, 512, lambda kind, data: events.append((kind, data)))
        tally = Tally(trials=1)
        try:
            jams = set(rng.sample(range(tickets), max(1, tickets // 5)))
            issued: list[str] = []
            for i in range(tickets):
                printer.jam_next = i in jams
                before = len(events)
                desk.serve(TakeRequest(rng.choice(("CT", "HT"))))
                kinds = [kind for kind, _ in events[before:]]
                numbers = [data.number for kind, data in events[before:] if kind == ISSUED]
                issued += numbers
                expected = [ISSUED, PRINT_FAULT] if i in jams else [ISSUED, PRINTED]
                if kinds != expected:
                    tally.stuck += 1
                    tally.notes.append(f"printer_fails: ticket {i} went {kinds}, not {expected}")
                if i in jams and not wait_until(
                    lambda n=numbers: any(n and n[0] in h.get("unprinted", []) and h.get("printer_fault")
                                          for h in health), CONVERGE_S):
                    tally.stuck += 1
                    tally.notes.append("printer_fails: the fault did not reach the kiosk's health")
            db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
            try:
                stored = [row[0] for row in db.execute("SELECT number FROM tickets")]
            finally:
                db.close()
            tally.lost = len(set(issued) - set(stored))
            tally.duplicates = len(stored) - len(set(stored)) + len(issued) - len(set(issued))
            tally.duplicates += abs(len(stored) - tickets)  # one number per touch, none extra
            if printer.printed != tickets - len(jams):
                tally.stuck += 1
                tally.notes.append(f"printer_fails: printed {printer.printed} of {tickets - len(jams)}")
        finally:
            watcher.disconnect()
            watcher.loop_stop()
            link.stop()
        return tally


# --------------------------------------------------------------------------- the benchmark


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s", force=True)
    trials, commands, kills, per_topic = (2, 120, 2, 1000) if args.quick else (5, 400, 4, 10000)
    rng = random.Random(7)
    total = Tally()
    figures: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="luot-faults-") as tmp:
        root = Path(tmp)
        # Each drill gets its folder and the trial's index; the broker is killed hard every
        # other trial and stopped politely otherwise.
        drills: list[tuple[str, Callable[[Path, int], Tally]]] = [
            ("kill_dispatcher", lambda w, _: kill_dispatcher(w, rng, commands, kills)),
            ("restart_broker", lambda w, i: restart_broker(w, rng, commands, hard=i % 2 == 1)),
            ("cut_display", lambda w, _: cut_display(w, rng, commands)),
            ("printer_fails", lambda w, _: printer_fails(w, rng, commands // 10)),
            ("flood", lambda w, _: flood(w, rng, per_topic, commands)),
        ]
        for name, drill in drills:
            drill_started = time.monotonic()
            tally = Tally()
            for trial in range(trials if name != "flood" else 1):
                tally.add(drill(root / f"{name}-{trial}", trial))
            figures[f"{name}_s"] = round(time.monotonic() - drill_started, 1)
            print(f"{name}: {tally}", file=sys.stderr, flush=True)
            total.add(tally)
    emit({
        "trials": total.trials,
        "lost": total.lost,
        "duplicates": total.duplicates,
        "double_called": total.double_called,
        "stuck": total.stuck,
        "refused": total.refused,
        "commands": total.commands,
        "resent": total.resent,
        "dispatcher_kills": total.kills,
        "bad_payloads_per_topic": per_topic,
        "bad_payloads_sent": total.bad_sent,
        "bad_payloads_answered": total.bad_answered,
        "notes": total.notes,
        "seconds": round(time.monotonic() - started, 1),
        **figures,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
