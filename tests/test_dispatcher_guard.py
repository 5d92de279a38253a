"""No message stops the dispatcher (DESIGN.md): the one guard, retained commands, reused ids.

The corpus test drives `Intake` over a real SQLite file; the others go through a real
Mosquitto with the dispatcher serving, and restart it on the same database and session.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime

import paho.mqtt.client as paho
import pytest
from helpers import FakeClock, RawDevice, wait_for
from hypothesis import HealthCheck, given, settings

from dispatcher.intake import Incoming, Intake
from dispatcher.queue import Effects, QueueBook
from dispatcher.service import Dispatcher
from dispatcher.storage import open_database
from luot import protocol as p
from luot.mqtt import CommandRefused, HubTimeout, command_expiry, make_paho_client, unique_client_id
from testbed.hostile import PAYLOADS

MONDAY_9AM = datetime(2026, 11, 30, 9, 0)


def test_bytes_that_stopped_the_centre_get_specific_codes_and_it_keeps_serving(
        broker, site, tmp_path, dispatcher):
    raw = RawDevice(broker, site, "kiosk-1")
    depth = 1500
    poison = [
        (b"[" * depth + b"]" * depth, p.TOO_DEEP),
        (b'{"id":"d","op":"take","service":' + b"[" * depth + b"]" * depth + b"}", p.TOO_DEEP),
        (b'{"id":"\\ud800","op":"take","service":"CT"}', p.BAD_TEXT),
        (b'{"id":"s","op":"take","service":"CT","citizen":"\\udfff"}', p.BAD_TEXT),
        (b'{"id":"n","op":"take","service":"\\udc00"}', p.BAD_TEXT),
        (json.dumps({"id": "i", "op": "take", "service": "CT", "priority": None}).encode()
         .replace(b"null", b"1" + b"0" * 30), p.BAD_SCHEMA),
    ]
    for i, (payload, _) in enumerate(poison):
        raw.send(payload, correlation=f"p{i}".encode())
    wait_for(lambda: len(raw.replies) == len(poison), what="a reply to each poison message")
    assert [r["error"] for r in raw.replies] == [code for _, code in poison]
    admin = RawDevice(broker, site, "admin")
    admin.send(json.dumps({"id": "big", "op": "next", "counter": 10**30}).encode())
    wait_for(lambda: admin.replies, what="the reply to a huge counter")
    assert admin.replies[0]["error"] == p.OUT_OF_RANGE, "bad input, not `internal`"
    raw.send(json.dumps({"id": "good", "op": "take", "service": "CT"}).encode())
    wait_for(lambda: len(raw.replies) > len(poison), what="a take after the poison")
    assert raw.replies[-1]["ticket"]["number"] == "A001"
    assert dispatcher._thread is not None and dispatcher._thread.is_alive()
    raw.close()
    admin.close()


def test_a_retained_command_is_refused_and_never_runs_at_a_restart(broker, site, tmp_path):
    database = tmp_path / "hub.db"
    first = Dispatcher(site, database, broker.settings("hub"))
    first.start()
    wait_for(lambda: first.client.is_connected() and first.batches > 0, what="the dispatcher")
    raw = RawDevice(broker, site, "kiosk-1")
    raw.send(json.dumps({"id": "kept", "op": "take", "service": "CT"}).encode(), b"kept", retain=True)
    wait_for(lambda: raw.replies, what="the refusal of a retained command")
    assert raw.replies[0]["error"] == p.RETAINED
    first.stop()
    second = Dispatcher(site, database, broker.settings("hub"))
    second.start()
    try:
        raw.send(json.dumps({"id": "live", "op": "take", "service": "CT"}).encode(), b"live")
        wait_for(lambda: len(raw.replies) == 2, what="the reply to a live take")
        assert raw.replies[1]["id"] == "live" and raw.replies[1]["ticket"]["number"] == "A001"
        assert second.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    finally:
        second.stop()
        raw.close()


def test_the_same_id_with_another_body_is_a_conflict(dispatcher, connect):
    kiosk = connect("kiosk-1", wait_config=False)
    first = kiosk.request("take", service="CT", command_id="same-id")
    assert kiosk.request("take", service="CT", command_id="same-id") == first
    with pytest.raises(Exception) as caught:
        kiosk.request("take", service="HT", command_id="same-id")
    assert getattr(caught.value, "code", None) == p.ID_CONFLICT
    assert dispatcher.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


@pytest.fixture(scope="module")
def desk(site, tmp_path_factory):
    db = open_database(tmp_path_factory.mktemp("guard") / "guard.db")
    book = QueueBook(db, site)
    yield Intake(db, book, site), db
    db.close()


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_any_bytes_from_any_device_get_a_reply_that_is_not_internal(desk, site, payload):
    intake, db = desk
    clock = FakeClock(MONDAY_9AM.replace(tzinfo=site.timezone))
    batch = [Incoming(device, payload, uuid.uuid4().hex.encode(), 0, 1)
             for device in ("kiosk-1", "quay-1", "tv-1", "admin")]
    replies = intake.apply(batch, clock(), Effects(), lambda _overlap: db.execute("COMMIT"))
    for _, reply in replies:
        decoded = json.loads(reply)
        assert decoded["ok"] or decoded["error"] != p.INTERNAL, decoded


def test_a_command_its_sender_gave_up_on_is_never_carried_out(broker, site, tmp_path, connect):
    """Broker up, dispatcher down: the press fails, and stays failed when the hub returns."""
    database = tmp_path / "hub.db"
    first = Dispatcher(site, database, broker.settings("hub"))
    first.start()
    wait_for(lambda: first.client.is_connected() and first.batches > 0, what="the dispatcher")
    first.stop()  # its persistent session keeps collecting commands
    kiosk = connect("kiosk-1", wait_config=False)
    expiry, wait = command_expiry(2.0)
    with pytest.raises(HubTimeout):
        kiosk.request("take", service="CT", timeout=2.0)
    time.sleep(expiry + 1.0 - wait + 0.1)  # past the broker's whole-second rounding
    second = Dispatcher(site, database, broker.settings("hub"))
    second.start()
    try:
        wait_for(lambda: second.batches > 0, what="the second dispatcher")
        assert kiosk.request("take", service="CT", timeout=5)["ticket"]["number"] == "A001"
        assert second.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    finally:
        second.stop()


def test_a_command_read_after_its_expiry_is_refused(desk, site):
    intake, db = desk
    now = MONDAY_9AM.replace(tzinfo=site.timezone)
    payload = json.dumps({"id": uuid.uuid4().hex, "op": "take", "service": "CT"}).encode()
    late = Incoming("kiosk-1", payload, None, 0, 1, deadline=time.monotonic() - 0.1)
    [(_, reply)] = intake.apply([late], now, Effects(), lambda _o: db.execute("COMMIT"))
    assert json.loads(reply)["error"] == p.EXPIRED


def test_a_full_card_refuses_with_storage_full_and_recovers(broker, site, tmp_path, connect):
    """SQLite's max_page_count makes the file as full as a card: every write past it fails."""
    database = tmp_path / "hub.db"
    hub = Dispatcher(site, database, broker.settings("hub"))
    pages = hub.db.execute("PRAGMA page_count").fetchone()[0]
    hub.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    hub.start()
    try:
        wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
        health: dict[str, dict] = {}
        watcher = make_paho_client(broker.settings("admin"), unique_client_id("admin", "health"))
        watcher.on_connect = lambda c, *_: c.subscribe(p.Topics(site.id).device_health("hub"), qos=1)
        watcher.on_message = lambda _c, _u, msg: health.update(hub=p.decode(msg.payload))
        watcher.connect(broker.host, broker.port)
        watcher.loop_start()
        kiosk = connect("kiosk-1", wait_config=False)
        refused = None
        for n in range(400):
            try:
                kiosk.request("take", service="CT", citizen=f"{n:03d}" + "x" * 120)
            except CommandRefused as e:
                refused = e
                break
        assert refused is not None and refused.code == p.STORAGE_FULL
        assert hub._thread is not None and hub._thread.is_alive()
        issued = hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        wait_for(lambda: health.get("hub", {}).get("storage") == "full", what="health: full")
        hub.db.execute("PRAGMA max_page_count = 1000000")  # an officer cleared the card
        number = kiosk.request("take", service="CT")["ticket"]["number"]
        assert number == f"A{issued + 1:03d}", "no number lost or given twice across the full card"
        wait_for(lambda: health["hub"]["storage"] == "ok", what="health back to ok")
        watcher.disconnect()
        watcher.loop_stop()
    finally:
        hub.stop()


def test_a_device_using_the_dispatchers_client_id_does_not_take_its_place(dispatcher, broker,
                                                                           connect):
    before = dispatcher.connections
    intruder = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=dispatcher.client._client_id
                           .decode(), protocol=paho.MQTTv5)
    intruder.username_pw_set("kiosk-2", broker.passwords["kiosk-2"])
    accepted = threading.Event()
    intruder.on_connect = lambda *_: accepted.set()
    intruder.connect(broker.host, broker.port, clean_start=True)
    intruder.loop_start()
    try:
        assert accepted.wait(5), "the intruder got no CONNACK"
        kiosk = connect("kiosk-1", wait_config=False)
        assert kiosk.request("take", service="CT")["ticket"]["number"] == "A001"
        assert dispatcher.connections == before, "the dispatcher was kicked off"
    finally:
        intruder.disconnect()
        intruder.loop_stop()
