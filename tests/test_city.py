"""The city tier against a real three-node RabbitMQ cluster and a real PostgreSQL: a hub's
journal reaches the collector over the bridge, idempotently, and a gap is repaired."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from city_rig import journal_events, played_day
from helpers import wait_for

from city import store
from city.collector import Collector
from city.figures import centre_figures
from dispatcher.journal import JournalPublisher
from luot.config import SiteConfig
from luot.mqtt import HubLink
from testbed.city import LinkedHub, cluster_settings
from testbed.rabbitmq import RabbitCluster


@pytest.fixture
def city(rabbit: RabbitCluster, city_db: str, tmp_path: Path, site: SiteConfig,
         request: pytest.FixtureRequest) -> Iterator[Callable[..., object]]:
    """`city("hub", node=1)` starts a linked hub, `city("collector", node=2)` a collector;
    every one is stopped at the end. Client ids carry the test's name: sessions left in
    the shared cluster by an earlier test are never reused."""
    started: list[LinkedHub | Collector] = []
    tag = "".join(c for c in request.node.name if c.isalnum())[-24:]

    def make(kind: str, node: int = 0, **kw: object) -> LinkedHub | Collector:
        n = len(started)
        if kind == "hub":
            part: LinkedHub | Collector = LinkedHub(tmp_path / f"hub{n}", site, rabbit, node=node,
                                                    bridge_id=f"luot-{tag}-{n}", **kw)  # type: ignore[arg-type]
        else:
            part = Collector(cluster_settings(rabbit, first=node), city_db, name=f"{tag}-{n}")
        part.start()
        if isinstance(part, Collector):
            assert part.session.connected.wait(60), "the collector could not reach the cluster"
        started.append(part)
        return part

    yield make
    for part in reversed(started):
        part.stop()


def link(hub: LinkedHub, device: str) -> HubLink:
    wait_for(lambda: hub.dispatcher.client.is_connected() and hub.dispatcher.batches > 0,
             what="the dispatcher")
    client = HubLink(hub.broker.settings(device), device_id=device, site=hub.site.id)
    client.start()
    assert client.wait_connected(5)
    return client


def stored(dsn: str, hub: str) -> list[tuple[int, str]]:
    db = store.connect(dsn)
    try:
        return [(r[0], r[1]) for r in db.execute(
            "SELECT seq, kind FROM events WHERE hub = %s ORDER BY seq", (hub,))]
    finally:
        db.close()


def test_a_call_at_a_hub_reaches_the_collector(city, city_db, site):
    collector = city("collector", node=2)
    hub = city("hub", node=1)
    kiosk, counter = link(hub, "kiosk-1"), link(hub, "quay-1")
    try:
        number = kiosk.request("take", service="CT", timeout=5)["ticket"]["number"]
        called = counter.request("next", counter=1, timeout=5)["ticket"]
        assert called["number"] == number
        wait_for(lambda: [k for _, k in stored(city_db, site.id)][-2:] == ["issued", "called"],
                 timeout=60, what="the call in PostgreSQL")
    finally:
        kiosk.stop()
        counter.stop()
    db = store.connect(city_db)
    try:
        row = db.execute("SELECT number, counter, service FROM events WHERE hub = %s AND kind = 'called'",
                         (site.id,)).fetchone()
        assert row == (number, 1, "CT")
        columns = {r[0] for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'")}
        assert not columns & {"citizen", "priority", "password"}, "nothing personal crosses"
    finally:
        db.close()
    assert collector.stored == len(journal_events(hub.database))


def test_a_duplicated_and_a_reordered_event_change_nothing(dispatcher, broker, connect, postgres, site,
                                                           tmp_path):
    from tools.report import report_figures

    counter = played_day(connect, tmp_path / "luot.db", takes=12, served=8, score=4)
    counter.request("noshow", counter=2)
    events = journal_events(tmp_path / "luot.db")
    assert {e["kind"] for e in events} >= {"issued", "called", "served", "rated", "no-show"}

    in_order, shuffled = postgres.new_database("in_order"), postgres.new_database("shuffled")
    figures = []
    for dsn, arrivals in ((in_order, [events]), (shuffled, shuffled_with_repeats(events))):
        db = store.connect(dsn)
        try:
            for batch in arrivals:
                store.store_events(db, site.id, events[-1]["seq"], batch, 0.0)
            assert db.execute("SELECT count(*) FROM events").fetchone()[0] == len(events)
            assert store.gaps(db, site.id) == []
            figures.append(centre_figures(db, "2000-01-01", "2100-01-01")[site.id].summary())
        finally:
            db.close()
    assert figures[0] == figures[1]
    day = events[0]["day"]
    own = report_figures(tmp_path / "luot.db", day, day, site).total
    city = figures[0]
    assert (city["issued"], city["served"], city["noshow"], city["wait_p90_min"]) == (
        own.issued, own.served, own.noshow, own.wait_p90_min)
    assert city["ratings"] == own.ratings == {4: 8}
    assert city["satisfied_pct"] == 100.0


def shuffled_with_repeats(events: list[dict]) -> list[list[dict]]:
    """The same events in random batches, in random order, a third of them twice."""
    rng = random.Random(15)
    arrivals = events + rng.sample(events, len(events) // 3)
    rng.shuffle(arrivals)
    return [arrivals[i:i + 7] for i in range(0, len(arrivals), 7)]


def test_a_gap_is_repaired(city, city_db, site):
    """The hub's journal publisher is down while the dispatcher keeps working (a crash, an
    update), so those events never go out by themselves; the collector sees the gap from the
    next event and the heartbeat's head, and the hub resends exactly that range."""
    collector = city("collector", node=0)
    hub = city("hub", node=1)
    kiosk = link(hub, "kiosk-1")
    try:
        kiosk.request("take", service="CT", timeout=5)
        wait_for(lambda: len(stored(city_db, site.id)) == 1, timeout=60, what="the first event")
        hub.journal.stop()
        for i in range(30):
            kiosk.request("take", service=("CT", "HT")[i % 2], timeout=5)
        hub.journal = JournalPublisher(site.id, hub.database, hub.broker.settings("hub"))
        hub.journal.start()
        kiosk.request("take", service="CT", timeout=5)
        journal = journal_events(hub.database)
        wait_for(lambda: [s for s, _ in stored(city_db, site.id)] == [e["seq"] for e in journal],
                 timeout=60, what="every event of the journal in PostgreSQL")
    finally:
        kiosk.stop()
    assert collector.resends_asked > 0
    assert hub.journal.resent == 30, "the hub resent the missing range, and only that"


def test_several_collectors_do_not_double_count(city, city_db, site):
    first, second = city("collector", node=0), city("collector", node=2)
    hub = city("hub", node=1)
    kiosk, counter = link(hub, "kiosk-2"), link(hub, "quay-2")
    try:
        for i in range(20):
            kiosk.request("take", service=("CT", "HT")[i % 2], timeout=5)
        for _ in range(10):
            counter.request("next", counter=2, timeout=5)
        journal = journal_events(hub.database)
        wait_for(lambda: first.received >= len(journal) and second.received >= len(journal)
                 and first.stored + second.stored >= len(journal),
                 timeout=60, what="both collectors to receive and store the journal")
    finally:
        kiosk.stop()
        counter.stop()
    assert first.stored + second.stored == len(journal)
    db = store.connect(city_db)
    try:
        f = centre_figures(db, "2000-01-01", "2100-01-01")[site.id]
    finally:
        db.close()
    state = hub.dispatcher.snapshot()["site"]
    assert (f.issued, f.waiting, f.serving, f.served) == (20, 10, 1, 9)
    assert (f.issued, f.waiting) == (state["issued"], state["waiting"])
