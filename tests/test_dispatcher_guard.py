"""No message stops the dispatcher (DESIGN.md): the one guard, retained commands, reused ids.

The corpus test drives `Intake` over a real SQLite file; the others go through a real
Mosquitto with the dispatcher serving, and restart it on the same database and session.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from helpers import FakeClock, RawDevice, wait_for
from hypothesis import HealthCheck, given, settings

from dispatcher.intake import Incoming, Intake
from dispatcher.queue import Effects, QueueBook
from dispatcher.service import Dispatcher
from dispatcher.storage import open_database
from luot import protocol as p
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


@settings(max_examples=400, deadline=None, database=None,
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
