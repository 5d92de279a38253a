"""The dispatcher's invariants through a real broker: what every device relies on."""

import logging
import threading
import uuid

import paho.mqtt.client as paho
import pytest
from helpers import RawDevice, wait_for

from dispatcher.service import Dispatcher
from luot import protocol as p
from luot.mqtt import CommandRefused, HubLink, make_paho_client, unique_client_id


def test_ten_counters_pressing_next_at_once_never_share_a_ticket(dispatcher, connect):
    kiosk = connect("kiosk-1")
    for _ in range(40):
        kiosk.request("take", service="CT")
    counters = [connect(f"quay-{n}", wait_config=False) for n in (1, 2, 5, 6, 7, 8, 9, 10)]
    called: list[str] = []
    lock = threading.Lock()
    for _round in range(5):
        barrier = threading.Barrier(len(counters))

        def press(link: HubLink, number: int, barrier: threading.Barrier) -> None:
            barrier.wait()
            ticket = link.request("next", counter=number, timeout=5)["ticket"]
            with lock:
                called.append(ticket["number"])

        threads = [
            threading.Thread(target=press, args=(link, int(link.device_id.split("-")[1]), barrier))
            for link in counters
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(called) == 40
    assert sorted(called) == [f"A{n:03d}" for n in range(1, 41)]
    serving = dispatcher.db.execute(
        "SELECT counter, COUNT(*) FROM tickets WHERE status = 'serving' GROUP BY counter"
    ).fetchall()
    assert all(count == 1 for _, count in serving) and len(serving) == 8


def test_two_kiosks_at_once_get_contiguous_numbers(dispatcher, connect):
    kiosks = [connect("kiosk-1", wait_config=False), connect("kiosk-2", wait_config=False)]
    numbers: list[str] = []
    lock = threading.Lock()

    def take(link: HubLink) -> None:
        for _ in range(150):
            number = link.request("take", service="HT")["ticket"]["number"]
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=take, args=(k,)) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == [f"B{n:03d}" for n in range(1, 301)], "none twice, none skipped"
    # Figures are coalesced during the burst; once it is over they match the database.
    figures = wait_for(lambda: (s := kiosks[0].state("state/service/HT")) and s["issued"] == 300 and s,
                       what="the figures after the burst")
    assert figures["waiting"] == 300 and figures["last_issued"] == "B300"
    assert figures == dispatcher.snapshot()["services"]["HT"]
    # The other kiosk's copy of the site figures comes on its own link: waited for, not raced.
    wait_for(lambda: (kiosks[1].state("state/site") or {}).get("issued") == 300,
             what="the site figures at the other kiosk")


def test_a_command_delivered_twice_has_one_effect(dispatcher, connect):
    kiosk = connect("kiosk-1", wait_config=False)
    command_id = uuid.uuid4().hex
    first = kiosk.request("take", service="CT", command_id=command_id)
    second = kiosk.request("take", service="CT", command_id=command_id)
    assert first == second
    counter = connect("quay-1", wait_config=False)
    call_id = uuid.uuid4().hex
    assert counter.request("next", counter=1, command_id=call_id)["ticket"]["number"] == "A001"
    kiosk.request("take", service="CT")
    repeat = counter.request("next", counter=1, command_id=call_id)
    assert repeat["ticket"]["number"] == "A001", "the stored reply, not a second call"
    assert dispatcher.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 2
    assert dispatcher.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1


def test_a_refusal_is_also_stored_and_repeated(dispatcher, connect):
    counter = connect("quay-4", wait_config=False)
    with pytest.raises(CommandRefused) as first:
        counter.request("recall", counter=4, command_id="same")
    with pytest.raises(CommandRefused) as second:
        counter.request("recall", counter=4, command_id="same")
    assert first.value.reply == second.value.reply
    assert first.value.code == p.NO_CURRENT_TICKET


@pytest.fixture
def raw_kiosk(broker, site, dispatcher):
    device = RawDevice(broker, site, "kiosk-1")
    yield device
    device.close()


def test_malformed_payloads_get_error_replies_and_the_service_stays_up(raw_kiosk, connect):
    bad = [
        (b"\xff\x00garbage", p.BAD_JSON),
        (b"{", p.BAD_JSON),
        (b'"just a string"', p.BAD_SCHEMA),
        (b'{"id": "1", "op": "launch"}', p.UNKNOWN_OP),
        (b'{"id": "2", "op": "take", "service": "CT", "extra": 1}', p.UNKNOWN_FIELD),
        (b'{"id": "3", "op": "take", "service": "CT", "citizen": "' + b"x" * 5000 + b'"}', p.TOO_LARGE),
        (b'{"id": "4", "op": "next", "counter": 1}', p.FORBIDDEN),
        (b'{"id": "5", "op": "take", "service": "NOPE"}', p.UNKNOWN_SERVICE),
    ]
    for i, (payload, _) in enumerate(bad):
        raw_kiosk.send(payload, correlation=f"c{i}".encode())
    wait_for(lambda: len(raw_kiosk.replies) == len(bad), what="an error reply for each")
    assert [r["error"] for r in raw_kiosk.replies] == [code for _, code in bad]
    assert all(r["ok"] is False and r["detail"] for r in raw_kiosk.replies)
    assert raw_kiosk.replies[0]["id"] == "c0", "correlation data names an unparsable command"
    kiosk = connect("kiosk-1", wait_config=False)
    assert kiosk.request("take", service="CT")["ticket"]["number"] == "A001"


def test_retained_state_is_the_database_and_is_republished_on_start(broker, site, tmp_path, connect):
    database = tmp_path / "hub.db"
    first = Dispatcher(site, database, broker.settings("hub"))
    first.start()
    wait_for(lambda: first.batches > 0, what="the first dispatcher")
    kiosk = connect("kiosk-1")
    counter = connect("quay-2", wait_config=False)
    for service in ("CT", "HT", "CT"):
        kiosk.request("take", service=service)
    counter.request("next", counter=2)
    before = first.snapshot()
    first.stop()

    # Wipe every retained topic, as a broker that lost its store would.
    wiper = make_paho_client(broker.settings("hub"), unique_client_id("hub", "wiper"))
    wiper.connect(broker.host, broker.port)
    wiper.loop_start()
    topics = p.Topics(site.id)
    names = [topics.config, topics.site_state]
    names += [topics.counter_state(c.number) for c in site.counters]
    names += [topics.service_state(s.code) for s in site.services]
    for name in names:
        wiper.publish(name, b"", qos=1, retain=True).wait_for_publish(5)
    wiper.disconnect()
    wiper.loop_stop()

    second = Dispatcher(site, database, broker.settings("hub"))
    second.start()
    try:
        display = connect("tv-1")
        wait_for(lambda: display.state("state/counter/2"), what="republished state")
        wait_for(lambda: len(display.states("state/")) == len(names) - 1, what="every state topic")
        assert display.state("state/counter/2") == before["counters"][2]
        assert display.state("state/service/CT") == before["services"]["CT"]
        assert display.state("state/site") == before["site"]
        assert display.state("config") == site.catalogue()
        assert second.snapshot() == before
    finally:
        second.stop()


def test_calls_are_events_with_a_sequence_and_recalls_are_marked(dispatcher, connect):
    display = connect("tv-1")
    events: list[dict] = []
    display.add_handler(lambda topic, payload, _r: events.append(payload) if topic == "event/call" else None)
    kiosk = connect("kiosk-1", wait_config=False)
    counter = connect("quay-1", wait_config=False)
    kiosk.request("take", service="CT")
    kiosk.request("take", service="CT")
    counter.request("next", counter=1)
    counter.request("recall", counter=1)
    counter.request("next", counter=1)
    wait_for(lambda: len(events) == 3, what="three call events")
    assert [(e["ticket"]["number"], e["recall"]) for e in events] == [
        ("A001", False), ("A001", True), ("A002", False)
    ]
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert display.state("state/counter/1")["call_seq"] == events[-1]["seq"]


def test_the_dispatcher_rides_out_a_broker_restart(dispatcher, broker, connect):
    kiosk = connect("kiosk-1", wait_config=False)
    kiosk.request("take", service="CT")
    broker.restart()
    assert kiosk.wait_connected(20)
    wait_for(dispatcher.client.is_connected, timeout=20, what="the dispatcher to reconnect")
    reply = wait_for(lambda: _try_take(kiosk), timeout=10, what="a take after the restart")
    assert reply["ticket"]["number"] == "A002"


def _try_take(link: HubLink):
    try:
        return link.request("take", service="CT", timeout=1)
    except Exception:
        return None


def test_anonymous_and_wrong_passwords_are_refused(broker, site):
    for username, password in ((None, None), ("kiosk-1", "wrong")):
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex,
                             protocol=paho.MQTTv5)
        if username:
            client.username_pw_set(username, password)
        result: list = []
        client.on_connect = lambda _c, _u, _f, reason, _p, result=result: result.append(reason)
        client.connect(broker.host, broker.port)
        client.loop_start()
        wait_for(lambda result=result: result, what="a CONNACK")
        client.loop_stop()
        assert result[0].is_failure, f"{username} was let in"


def test_a_dispatcher_started_before_its_broker_connects_when_it_comes(broker, site, tmp_path, connect,
                                                                       caplog):
    broker.stop()
    hub = Dispatcher(site, tmp_path / "early.db", broker.settings("hub"))
    caplog.set_level(logging.WARNING, logger="dispatcher")
    hub.start()
    try:
        def failed_attempts() -> int:
            return sum("cannot reach the broker" in r.getMessage() for r in caplog.records)

        wait_for(lambda: failed_attempts() >= 2, what="two failed attempts, with backoff")
        assert not hub.client.is_connected()
        broker.start()
        wait_for(hub.client.is_connected, timeout=15, what="the dispatcher to connect")
        kiosk = connect("kiosk-1")
        assert kiosk.request("take", service="CT")["ticket"]["number"] == "A001"
    finally:
        hub.stop()
