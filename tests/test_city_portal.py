"""A number from home, over a real RabbitMQ cluster and a real hub: the portal's take is
answered by the hub in the kiosk's sequence, limits per person hold across the kiosk and
the page, and a cut link gives no number, neither on the page nor later at the hub."""

from __future__ import annotations

import dataclasses
import urllib.parse
import urllib.request

import paho.mqtt.client as paho
from helpers import wait_for

from city.portal import Portal, PortalCentre
from city.portal_page import UNREACHABLE
from city.web import make_app
from kiosk.cccd import citizen_hash
from luot.config import DeviceEntry
from luot.mqtt import CommandRefused, HubLink, make_paho_client, unique_client_id
from testbed.city import LinkedHub, ServedApp, cluster_settings

SECRET = "citizen-secret-of-the-test-ward"
CARD, OTHER, THIRD = "001090000001", "001090000002", "001090000003"


def post(url: str, **fields: str) -> str:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url + "portal", data=data), timeout=20) as r:
        return r.read().decode("utf-8")


def bridge_state(hub: LinkedHub) -> dict[str, bytes]:
    """The hub's own notice of its city link (1 up, 0 down), as the technician reads it."""
    seen: dict[str, bytes] = {}
    client = make_paho_client(hub.broker.settings("admin"), unique_client_id("admin", "test"))
    topic = f"luot/{hub.site.id}/device/hub/bridge"
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, m: seen.__setitem__("state", m.payload)
    client.connect(hub.broker.host, hub.broker.port)
    client.loop_start()
    seen["client"] = client  # type: ignore[assignment]
    return seen


def test_a_number_from_home(rabbit, city_db, site, tmp_path, request):
    tag = "".join(c for c in request.node.name if c.isalnum())[-20:]
    centre = dataclasses.replace(site, devices=(*site.devices, DeviceEntry("portal", "kiosk", None, "", ())))
    hub = LinkedHub(tmp_path / "hub", centre, rabbit, node=1, bridge_id=f"luot-{tag}")
    hub.start()
    link = bridge_state(hub)
    portal = Portal(cluster_settings(rabbit, first=2), [PortalCentre(
        site.id, "Phường Thử Nghiệm", SECRET, (("CT", "Chứng thực"), ("HT", "Hộ tịch")))], name=tag)
    portal.start()
    kiosk = HubLink(hub.broker.settings("kiosk-1"), device_id="kiosk-1", site=site.id)
    kiosk.start()
    try:
        assert kiosk.wait_connected(5) and portal.session.connected.wait(10)
        wait_for(lambda: link.get("state") == b"1", timeout=15, what="the city link")
        wait_for(lambda: hub.dispatcher.client.is_connected() and hub.dispatcher.batches > 0,
                 what="the dispatcher")
        with ServedApp(make_app(city_db, portal=portal)) as web:
            form = urllib.request.urlopen(web.url + "portal", timeout=10).read().decode()
            assert "Lấy số thứ tự từ xa" in form and "Phường Thử Nghiệm — Hộ tịch" in form

            first = kiosk.request("take", service="HT", timeout=5)["ticket"]["number"]
            page = post(web.url, where=f"{site.id}|HT", card=CARD)
            second = site.service("HT").number(2)
            assert first == site.service("HT").number(1) and f'id="number">{second}<' in page, \
                "the page's number comes next in the kiosk's sequence"

            kiosk.request("take", service="CT", citizen=citizen_hash(OTHER, SECRET), timeout=5)
            page = post(web.url, where=f"{site.id}|CT", card=OTHER)
            assert "Bạn đã có một số đang chờ ở lĩnh vực này." in page, "one per field, kiosk and page"
            try:
                kiosk.request("take", service="HT", citizen=citizen_hash(CARD, SECRET), timeout=5)
                raise AssertionError("the kiosk gave a second HT number to the page's citizen")
            except CommandRefused as refused:
                assert refused.code == "duplicate_citizen"
            issued = hub.dispatcher.snapshot()["site"]["issued"]

            hub.uplink.cut()
            wait_for(lambda: link.get("state") == b"0", timeout=10, what="the link to go down")
            page = post(web.url, where=f"{site.id}|CT", card=THIRD)
            assert UNREACHABLE[0] in page and UNREACHABLE[1] in page and 'id="number"' not in page
            hub.uplink.heal()
            wait_for(lambda: link.get("state") == b"1", timeout=40, what="the link to come back")
            page = post(web.url, where=f"{site.id}|CT", card=THIRD)
            assert 'id="number">' in page, "back on the link, the page gets a number"
            # The take sent while cut waited in the cluster ahead of this one and was dropped there:
            # the hub issued exactly one number since.
            assert hub.dispatcher.snapshot()["site"]["issued"] == issued + 1
    finally:
        kiosk.stop()
        portal.stop()
        client: paho.Client = link["client"]  # type: ignore[assignment]
        client.disconnect()
        client.loop_stop()
        hub.stop()


def test_the_portal_refuses_what_it_cannot_check(rabbit, site):
    """A wrong centre, field or card number never reaches a hub (full-width digits included)."""
    portal = Portal(cluster_settings(rabbit), [PortalCentre(site.id, "P", SECRET, (("CT", "Chứng thực"),))])
    for centre, service, card in ((site.id, "CT", "12345"), (site.id, "XX", CARD), ("elsewhere", "CT", CARD),
                                  (site.id, "CT", "00109000000１")):
        try:
            portal.take(centre, service, card)
            raise AssertionError(f"accepted {centre}, {service}, {card}")
        except ValueError:
            pass
