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

import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import BENCH_SITE, emit, parse_args
from kiosk.desk import ISSUED, PRINT_FAULT, PRINTED, TakeRequest, TicketDesk
from luot.mqtt import make_paho_client, unique_client_id
from luot.protocol import Topics
from testbed.centre import LocalCentre, wait_until
from testbed.faults import (
    CONVERGE_S,
    BoardWatch,
    Cable,
    JammingPrinter,
    Stream,
    Tally,
    board_truth,
    converged,
)
from testbed.supervisor import stop_process


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
    """Bad payloads on the command topic of every device that is not connected already, with
    valid commands going on among them. A device has one connection (the broker binds client
    ids to users), so the stream's kiosk and counters, the hub and the admin watching the
    retained state are not flooded."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        display = centre.link(centre.device_ids("admin")[0])
        pid = centre.dispatcher.pid if centre.dispatcher else None
        stop = threading.Event()

        def valid() -> None:
            while not stop.is_set():
                stream.step()

        thread = threading.Thread(target=valid, daemon=True)
        thread.start()
        sent = answered = 0
        try:
            busy = {display.device_id, stream.kiosk.device_id,
                    *(link.device_id for link in stream.counters.values())}
            for device in centre.site.devices:
                if device.role == "hub" or device.id in busy:
                    continue
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
