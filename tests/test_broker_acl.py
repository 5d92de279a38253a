"""The ACL matrix against a real Mosquitto started with the generated configuration.

The expectation below is written from DESIGN.md's words, not from broker_config, so
a mistake in the generator shows up as a difference.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as paho

from luot.config import SiteConfig
from provisioning.probe import Probe, connect_reason, run_probes
from testbed.broker import Mosquitto

KINDS = ("state", "event", "config")


def design_allows(site: str, user: str, role: str, access: str, topic: str) -> bool:
    """DESIGN.md: a device writes only cmd/<itself> and device/<itself>/…, reads reply/<itself>,
    state/…, event/…, config, every device's status (online/offline). The dispatcher (hub)
    answers, publishes state, events and config, and reads commands and device health; the
    technician (admin) and the web service (web, for the leader's dashboard) also read device
    health. An officer reprints a ticket a kiosk could not print: only the web service writes
    reprint/<kiosk>, and only that device reads it."""
    root = f"luot/{site}/"
    if not topic.startswith(root):
        return False
    rel = topic[len(root):]
    kind = rel.split("/")[0]
    if kind == "reprint":
        return role == "web" if access == "write" else rel == f"reprint/{user}"
    if access == "write":
        if rel == f"cmd/{user}" or rel.startswith(f"device/{user}/"):
            return True
        return role == "hub" and kind in ("reply", *KINDS)
    if rel == f"reply/{user}" or kind in KINDS:
        return True
    if kind == "device" and rel.endswith("/status"):
        return True  # every device shows whether the dispatcher is online
    return (role == "hub" and kind in ("cmd", "device")) or (role in ("admin", "web") and kind == "device")


def topics_for(site: str, user: str, other: str) -> list[tuple[str, str | None]]:
    """(topic, who may write it to prove a read, or None when nobody may)."""
    root = f"luot/{site}/"
    return [
        (f"{root}cmd/{user}", user),
        (f"{root}cmd/{other}", other),
        (f"{root}reply/{user}", "hub"),
        (f"{root}reply/{other}", "hub"),
        (f"{root}device/{user}/status", user),
        (f"{root}device/{other}/health", other),
        (f"{root}device/{other}/status", other),
        (f"{root}state/counter/1", "hub"),
        (f"{root}state/service/CT", "hub"),
        (f"{root}state/site", "hub"),
        (f"{root}event/call", "hub"),
        (f"{root}config", "hub"),
        (f"{root}reprint/{user}", "web"),
        (f"{root}reprint/{other}", "web"),
        (f"{root}secret", None),
        ("luot/other-ward/state/site", None),
        (f"luot/other-ward/cmd/{user}", None),
    ]


def test_every_role_every_topic_publish_and_read(broker: Mosquitto, site: SiteConfig) -> None:
    users = sorted(broker.roles)
    probes = []
    for i, user in enumerate(users):
        other = users[(i + 1) % len(users)]
        for topic, writer in topics_for(site.id, user, other):
            probes.append(Probe(user, "write", topic))
            if writer is not None:
                probes.append(Probe(user, "read", topic, writer))
    results = run_probes(broker.host, broker.port, broker.passwords, probes,
                         sentinel=("hub", f"luot/{site.id}/event/probe-done"))
    assert results.refused_connections == {}
    assert len(results.allowed) == len(probes) == 31 * len(users)
    wrong = [
        (p.user, p.access, p.topic, got)
        for p, got in results.allowed.items()
        if got != design_allows(site.id, p.user, broker.roles[p.user], p.access, p.topic)
    ]
    assert wrong == []
    # Both outcomes occur for every role, so the matrix cannot pass by allowing or refusing all.
    for role in set(broker.roles.values()):
        outcomes = {got for p, got in results.allowed.items() if broker.roles[p.user] == role}
        assert outcomes == {True, False}, role


def test_anonymous_and_wrong_passwords_are_refused(broker: Mosquitto) -> None:
    def reason(user: str | None, password: str | None) -> int:
        return connect_reason(broker.host, broker.port, user, password)

    assert reason("kiosk-1", broker.passwords["kiosk-1"]) == 0
    refused = {134, 135}  # bad user name or password / not authorized
    assert reason(None, None) in refused
    assert reason("kiosk-1", broker.passwords["kiosk-2"]) in refused
    assert reason("kiosk-1", "") in refused
    assert reason("nobody", "whatever") in refused


def test_no_user_can_take_another_users_client_id(broker: Mosquitto) -> None:
    """The broker binds client ids to users: connecting with the hub's (or a kiosk's) client id
    leaves that connection alone, so nobody can kick the dispatcher or discard its session."""
    def client(user: str, client_id: str) -> tuple[paho.Client, list[object]]:
        made = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                           protocol=paho.MQTTv5)
        made.username_pw_set(user, broker.passwords[user])
        dropped: list[object] = []
        accepted = threading.Event()
        made.on_connect = lambda *_: accepted.set()
        made.on_disconnect = lambda _c, _u, _f, reason, _p: dropped.append(reason)
        made.connect(broker.host, broker.port)
        made.loop_start()
        assert accepted.wait(5), f"{user} got no CONNACK"
        return made, dropped

    for victim in ("hub", "kiosk-1"):
        held, dropped = client(victim, victim)
        for attacker in sorted(broker.roles):
            if attacker == victim:
                continue
            taker, _ = client(attacker, victim)
            # A round trip on the victim's link after the attacker's CONNACK: a takeover would
            # have closed it before that CONNACK was sent.
            info = held.publish(f"luot/{broker.site}/device/{victim}/status", b"online", qos=1)
            info.wait_for_publish(5)
            assert info.is_published() and dropped == [], f"{attacker} took {victim}'s client id"
            taker.disconnect()
            taker.loop_stop()
        assert dropped == [], f"{victim} was kicked off"
        held.disconnect()
        held.loop_stop()
