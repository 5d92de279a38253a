"""The city tier against a real three-node RabbitMQ cluster and a real PostgreSQL: a hub's
journal reaches the collector over the bridge, idempotently, and a gap is repaired."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import wait_for

from city import store
from city.collector import Collector
from city.figures import centre_figures
from dispatcher.journal import read_events
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
                                                    bridge_id=f"b-{tag}-{n}", **kw)  # type: ignore[arg-type]
        else:
            part = Collector(cluster_settings(rabbit, first=node), city_db, name=f"{tag}-{n}")
        part.start()
        if isinstance(part, Collector):
            assert part.session.connected.wait(10), "the collector could not reach the cluster"
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


def journal_of(hub: LinkedHub) -> list[dict]:
    db = sqlite3.connect(hub.database)
    try:
        return read_events(db, 0, limit=100_000)
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
                 timeout=15, what="the call in PostgreSQL")
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
    assert collector.stored == len(journal_of(hub))
