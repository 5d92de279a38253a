"""Numbers from home at the hub: in the kiosk's line, passed over until the citizen
confirms at a kiosk with the same card, then called in the place they kept; counted."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from helpers import wait_for

from dispatcher.journal import install, read_events
from dispatcher.service import Dispatcher
from kiosk.cccd import citizen_hash
from luot.config import DeviceEntry
from luot.mqtt import CommandRefused, HubLink
from testbed.broker import Mosquitto

SECRET = "citizen-secret-of-the-test-ward"


@pytest.fixture
def centre(site, tmp_path):
    """The test site with the city's portal in its inventory (a kiosk's rights), its hub."""
    portal = DeviceEntry("portal", "kiosk", None, "", ())
    with_portal = dataclasses.replace(site, devices=(*site.devices, portal))
    broker = Mosquitto(tmp_path / "broker", site.id, {d.id: d.role for d in with_portal.devices})
    broker.start()
    hub = Dispatcher(with_portal, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
    with sqlite3.connect(tmp_path / "luot.db") as db:
        install(db)
    links = {}
    for device in ("portal", "kiosk-1", "quay-2"):
        links[device] = HubLink(broker.settings(device), device_id=device, site=site.id)
        links[device].start()
        assert links[device].wait_connected(5)
    # The dispatcher says `online` once it has subscribed: a command sent earlier goes unheard.
    wait_for(lambda: all(link.hub_online for link in links.values()), what="the dispatcher online")
    yield hub, links
    for link in links.values():
        link.stop()
    hub.stop()
    broker.stop()


def test_a_number_from_home_waits_for_its_card(centre, tmp_path):
    _hub, links = centre
    portal, kiosk, counter = links["portal"], links["kiosk-1"], links["quay-2"]
    card = citizen_hash("001090000001", SECRET)
    remote = portal.request("take", service="CT", citizen=card)["ticket"]
    walk_in = kiosk.request("take", service="CT")["ticket"]
    assert (remote["number"], walk_in["number"]) == ("A001", "A002"), "one line, first come first served"

    called = counter.request("next", counter=2)["ticket"]
    assert called["number"] == "A002", "the number from home is passed over until confirmed"
    with pytest.raises(CommandRefused) as refused:
        portal.request("take", service="CT", citizen=card)
    assert refused.value.code == "duplicate_citizen", "the portal cannot confirm its own number"

    printed = kiosk.request("take", service="CT", citizen=card)
    assert printed["ticket"]["number"] == "A001" and printed["ticket"]["id"] == remote["id"], \
        "scanning the same card at the kiosk confirms the number from home, which the kiosk prints"
    assert counter.request("next", counter=2)["ticket"]["number"] == "A001", "called in the place it kept"

    with sqlite3.connect(tmp_path / "luot.db") as db:
        kinds = [(e["kind"], e.get("number")) for e in read_events(db, 0, limit=1000)]
    assert ("from-home", "A001") in kinds and ("skipped", "A001") in kinds and ("confirmed", "A001") in kinds
    assert kinds.count(("issued", "A001")) == 1, "confirming issues nothing new"
