"""Try what broker users can do: publish (PUBACK reason over MQTT v5, QoS 1) and read
(a marker published by a user allowed to write the topic arrives, or does not).

Mosquitto grants every SUBSCRIBE and filters at delivery, so a read is proven only by
a message arriving. After the markers, one user publishes a sentinel everyone may read;
Mosquitto queues a QoS 1 message to subscribers before it acknowledges it, so once each
client has the sentinel, every marker that was going to reach it has arrived.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from luot.config import BrokerSettings
from luot.mqtt import make_paho_client, unique_client_id


@dataclass(frozen=True)
class Probe:
    """`user` tries to `access` ("write" or "read") `topic`; a read needs a `writer` to publish."""

    user: str
    access: str
    topic: str
    writer: str | None = None


@dataclass
class ProbeResults:
    allowed: dict[Probe, bool] = field(default_factory=dict)
    refused_connections: dict[str, str] = field(default_factory=dict)


class _Client:
    """One user's connection, recording PUBACK reasons and received payloads."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.user = settings.username
        self.connected = threading.Event()
        self.refusal = ""
        self.acks: dict[int, int] = {}
        self.subacks: set[int] = set()
        self.received: list[tuple[str, Any]] = []
        self.changed = threading.Condition()
        self.paho = make_paho_client(settings, unique_client_id(self.user, "probe"))
        self.paho.reconnect_delay_set(1, 1)
        self.paho.on_connect = self._on_connect
        self.paho.on_publish = self._on_publish
        self.paho.on_subscribe = self._on_subscribe
        self.paho.on_message = self._on_message
        self.settings = settings

    def start(self) -> None:
        self.paho.connect_async(self.settings.host, self.settings.port, keepalive=30, clean_start=True)
        self.paho.loop_start()

    def stop(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.refusal = str(reason)
            client.disconnect()
        else:
            self.connected.set()
        self._notify()

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self.changed:
            self.acks[mid] = int(reason.value)
            self.changed.notify_all()

    def _on_subscribe(self, _c: paho.Client, _u: Any, mid: int, _reasons: Any, _p: Any) -> None:
        with self.changed:
            self.subacks.add(mid)
            self.changed.notify_all()

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return
        with self.changed:
            self.received.append((msg.topic, payload))
            self.changed.notify_all()

    def wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.user}: timed out waiting for {what}")
                self.changed.wait(left)

    def publish(self, topic: str, payload: dict[str, Any]) -> int:
        return self.paho.publish(topic, json.dumps(payload).encode(), qos=1).mid

    def ack(self, mid: int, timeout: float) -> int:
        self.wait(lambda: mid in self.acks, timeout, f"the PUBACK of message {mid}")
        return self.acks[mid]


def run_probes(host: str, port: int, passwords: dict[str, str], probes: Iterable[Probe], *,
               sentinel: tuple[str, str], tls: bool = False, ca_file: str | None = None,
               timeout: float = 10.0) -> ProbeResults:
    """Run every probe; `sentinel` is (user, topic) that every prober may read."""
    probes = list(probes)
    nonce = uuid.uuid4().hex
    users = sorted({p.user for p in probes} | {p.writer for p in probes if p.writer} | {sentinel[0]})
    clients = {
        u: _Client(BrokerSettings(host, port, u, passwords[u], tls=tls, ca_file=ca_file)) for u in users
    }
    results = ProbeResults()
    for c in clients.values():
        c.start()
    try:
        for c in clients.values():
            c.wait(lambda c=c: c.connected.is_set() or bool(c.refusal), timeout, "the connection")
            if c.refusal:
                results.refused_connections[c.user] = c.refusal
        live = {u: c for u, c in clients.items() if u not in results.refused_connections}

        reads = [p for p in probes if p.access == "read" and p.user in live]
        for user, c in live.items():
            topics = sorted({p.topic for p in reads if p.user == user} | {sentinel[1]})
            mid = c.paho.subscribe([(t, 1) for t in topics])[1]
            c.wait(lambda c=c, mid=mid: mid in c.subacks, timeout, "the SUBACK")

        writes = [(p, live[p.user].publish(p.topic, {"id": str(uuid.uuid4()), "op": "probe",
                                                     "probe": nonce}))
                  for p in probes if p.access == "write" and p.user in live]
        for p, mid in writes:
            results.allowed[p] = live[p.user].ack(mid, timeout) < 128

        markers = sorted({(p.writer, p.topic) for p in reads if p.writer})
        for writer, topic in markers:
            if writer not in live:
                raise RuntimeError(f"{writer} cannot connect, so it cannot write the marker on {topic}")
            mid = live[writer].publish(topic, {"id": str(uuid.uuid4()), "op": "probe",
                                               "probe": nonce, "marker": topic})
            if live[writer].ack(mid, timeout) >= 128:
                raise RuntimeError(f"{writer} may not write {topic}, so it cannot prove who reads it")

        writer = live[sentinel[0]]
        mid = writer.publish(sentinel[1], {"probe": nonce, "sentinel": True})
        if writer.ack(mid, timeout) >= 128:
            raise RuntimeError(f"{sentinel[0]} may not write the sentinel on {sentinel[1]}")

        def got(c: _Client, **match: Any) -> bool:
            return any(
                isinstance(p, dict) and p.get("probe") == nonce
                and all(p.get(k) == v for k, v in match.items())
                for _t, p in c.received
            )

        for c in live.values():
            c.wait(lambda c=c: got(c, sentinel=True), timeout, "the sentinel")
        for p in reads:
            results.allowed[p] = got(live[p.user], marker=p.topic)
    finally:
        for c in clients.values():
            c.stop()
    return results


def connect_reason(host: str, port: int, username: str | None, password: str | None, *,
                   tls: bool = False, ca_file: str | None = None, timeout: float = 5.0) -> int:
    """The CONNACK reason code the broker gives these credentials (0 = accepted; None = anonymous)."""
    reasons: list[int] = []
    done = threading.Event()
    settings = BrokerSettings(host, port, username or "", password or "", tls=tls, ca_file=ca_file)
    client = make_paho_client(settings, unique_client_id(username or "anonymous", "probe"))
    if username is None:
        client.username_pw_set(None, None)

    def on_connect(_c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        reasons.append(int(reason.value))
        done.set()

    client.on_connect = on_connect
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    try:
        if not done.wait(timeout):
            raise TimeoutError(f"no answer from the broker at {host}:{port} within {timeout} s")
    finally:
        client.disconnect()
        client.loop_stop()
    return reasons[0]
