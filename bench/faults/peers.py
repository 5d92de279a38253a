"""Drills where another party fails or misbehaves: the dispatcher away while devices press
(stopped, or frozen with its connection open), a device taking another's client id, and the
kiosk's printer failing mid-ticket."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench.faults.processes import running_centre, stream_tally, watched_stream
from kiosk.desk import ISSUED, PRINT_FAULT, PRINTED, TakeRequest, TicketDesk
from luot.mqtt import HubLink, HubTimeout, HubUnreachable, make_paho_client, unique_client_id
from luot.protocol import Topics
from testbed.centre import LocalCentre, wait_until
from testbed.faults import CONVERGE_S, JammingPrinter, Stream, Tally, converged


def _carried_out(centre: LocalCentre, sent: list[tuple[str, str]]) -> int:
    """How many of these (device, command id) the database holds as carried out."""
    db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
    try:
        done = 0
        for device, command_id in sent:
            row = db.execute("SELECT reply FROM commands WHERE device = ? AND id = ?",
                             (device, command_id)).fetchone()
            done += bool(row and json.loads(row[0]).get("ok"))
        return done
    finally:
        db.close()


def _press(stream: Stream, rng: random.Random, timeout: float) -> tuple[HubLink, str, bool]:
    """One take or NEXT with the devices' own short wait; (link, command id, answered)."""
    command_id = uuid.uuid4().hex
    if rng.random() < 0.5:
        link, op, fields = stream.kiosk, "take", {"service": rng.choice(stream.services)}
    else:
        number = rng.choice(sorted(stream.counters))
        link, op, fields = stream.counters[number], "next", {"counter": number,
                                                            "expect": stream.current[number]}
    try:
        link.request(op, timeout=timeout, command_id=command_id, **fields)
    except (HubTimeout, HubUnreachable):
        return link, command_id, False
    return link, command_id, True


def dispatcher_away(workdir: Path, rng: random.Random, presses: int, *, frozen: bool) -> Tally:
    """The broker up, the dispatcher away (killed, or `frozen` with SIGSTOP so its connection
    stays open and the broker goes on delivering to it) while devices press with their own
    short waits; then back. A press its sender was told failed must never be carried out."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        try:
            for _ in range(10):
                stream.step()
            assert centre.dispatcher is not None
            centre.dispatcher.send_signal(signal.SIGSTOP if frozen else signal.SIGKILL)
            if not frozen:
                centre.dispatcher.wait()
            failed: list[tuple[str, str]] = []
            answered = 0
            for _ in range(presses):
                link, command_id, ok = _press(stream, rng, rng.uniform(1.0, 3.0))
                if ok:
                    answered += 1
                else:
                    failed.append((link.device_id, command_id))
            if frozen:
                centre.dispatcher.send_signal(signal.SIGCONT)
            else:
                centre.start_dispatcher()
            # The stream's next commands are answered only after what queued before them.
            for _ in range(20):
                stream.step()
            tally = stream_tally(stream)
            tally.late_effects = _carried_out(centre, failed)
            if answered:
                tally.stuck_because(f"dispatcher_away: {answered} presses answered with the dispatcher away")
        finally:
            stream.close()
        return tally


def take_client_ids(workdir: Path, rng: random.Random, commands: int) -> Tally:
    """Every spare device connects, again and again, with the dispatcher's client id and with
    the stream's: nobody is pushed off, and every command of the stream is answered."""
    with running_centre(workdir) as centre, watched_stream(centre, rng, "admin") as (stream, watch):
        hub_status: list[bytes] = []
        watch.watch(f"device/{centre.hub_id}/status", 1, lambda _t, payload: hub_status.append(payload))
        busy = {watch.device_id, stream.kiosk.device_id,
                *(link.device_id for link in stream.counters.values())}
        spare = [d.id for d in centre.site.devices if d.id not in busy and d.role != "hub"]
        # The dispatcher's own client id, its device id, and the id the broker gives the
        # stream's kiosk (a device's client id is its user name on the devices' listener).
        victims = [f"{centre.hub_id}-dispatcher", centre.hub_id, stream.kiosk.device_id]
        stop = threading.Event()
        attempts = 0

        def attacker() -> None:
            nonlocal attempts
            while not stop.is_set():
                user, victim = rng.choice(spare), rng.choice(victims)
                client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=victim,
                                     protocol=paho.MQTTv5)
                client.username_pw_set(user, centre.broker.passwords[user])
                try:
                    client.connect(centre.broker.host, centre.broker.port, keepalive=5)
                    client.loop_start()
                    stop.wait(rng.uniform(0.05, 0.3))
                    client.disconnect()
                    client.loop_stop()
                except OSError:
                    pass
                attempts += 1

        thread = threading.Thread(target=attacker, daemon=True)
        thread.start()
        try:
            for _ in range(commands):
                stream.step()
        finally:
            stop.set()
            thread.join()
        tally = stream_tally(stream)
        offline = hub_status.count(b"offline")
        if offline or not converged(watch, centre):
            tally.stuck_because(f"take_client_ids: the dispatcher went offline {offline} times "
                                f"in {attempts} takeover attempts")
        for link in [stream.kiosk, *stream.counters.values()]:
            if not link.connected:
                tally.stuck_because(f"take_client_ids: {link.device_id} was pushed off")
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
                    tally.stuck_because(f"printer_fails: ticket {i} went {kinds}, not {expected}")
                if i in jams and not wait_until(
                    lambda n=numbers: any(n and n[0] in h.get("unprinted", []) and h.get("printer_fault")
                                          for h in health), CONVERGE_S):
                    tally.stuck_because("printer_fails: the fault did not reach the kiosk's health")
            db = sqlite3.connect(f"file:{centre.database}?mode=ro", uri=True)
            try:
                stored = [row[0] for row in db.execute("SELECT number FROM tickets")]
            finally:
                db.close()
            tally.lost = len(set(issued) - set(stored))
            tally.duplicates = len(stored) - len(set(stored)) + len(issued) - len(set(issued))
            tally.duplicates += abs(len(stored) - tickets)  # one number per touch, none extra
            if printer.printed != tickets - len(jams):
                tally.stuck_because(f"printer_fails: printed {printer.printed} of {tickets - len(jams)}")
        finally:
            watcher.disconnect()
            watcher.loop_stop()
            link.stop()
        return tally
