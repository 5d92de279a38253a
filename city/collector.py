"""`luot city collect`'s engine: hubs' journals from the broker cluster into PostgreSQL.

One MQTT 3.1.1 session (RabbitMQ's plugin speaks no v5) with a fixed client id
and a persistent QoS 1 subscription, so what arrives while the collector is down
waits in the cluster. A message is acknowledged only after its events are
committed. When a node dies the collector moves to the next one. Gaps in a hub's
sequence that outlive one look are asked for again from the hub, at most every
RESEND_WAIT_S per range. Several collectors may run at once: the database keeps
one row per (hub, seq) whoever stored it first.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from city import store
from city.journal_message import BadMessage, parse
from luot import protocol as p
from luot.background import Background

log = logging.getLogger(__name__)

GAP_LOOK_S = 0.5
RESEND_WAIT_S = 3.0
_NODE = re.compile(r"([A-Za-z0-9.-]+):(\d{1,5})")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint | None:
        """A node as city.toml writes it, host:port; None for anything else."""
        found = _NODE.fullmatch(text)
        if not found or not 1 <= int(found[2]) <= 65535:
            return None
        return cls(found[1], int(found[2]))

    def __str__(self) -> str:
        """host:port, as `parse` reads it (and the warnings name a node)."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ClusterSettings:
    endpoints: tuple[Endpoint, ...]
    username: str
    password: str
    ca_file: str | None = None  # TLS when set
    keepalive: int = 10


def cluster_client(settings: ClusterSettings, client_id: str) -> paho.Client:
    """An MQTT 3.1.1 client with a persistent session, as a RabbitMQ or EMQX cluster takes."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv311, clean_session=False)
    client.username_pw_set(settings.username, settings.password)
    if settings.ca_file:
        client.tls_set(ca_certs=settings.ca_file)
    client.suppress_exceptions = True
    client.max_inflight_messages_set(200)
    return client


class ClusterSession(Background):
    """Connect to the first endpoint that answers, move on when it fails; run in a thread."""

    def __init__(self, settings: ClusterSettings, client_id: str, subscriptions: list[str],
                 on_message: Callable[[str, bytes], None], tick: Callable[[], None] | None = None) -> None:
        super().__init__("cluster", join_s=10)
        self.settings = settings
        self.client = cluster_client(settings, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, m: on_message(m.topic, m.payload)
        self._subscriptions = subscriptions
        self._tick = tick
        self.connected = threading.Event()  # connected and subscribed
        self.endpoint: Endpoint | None = None

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("the cluster refused %s: %s", client._client_id, reason)
            return
        client.subscribe([(topic, 1) for topic in self._subscriptions])

    def _on_subscribe(self, _c: paho.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        """Connected means subscribed: what is published from here on reaches this session."""
        if all(not r.is_failure for r in reasons):
            self.connected.set()
            log.info("subscribed at %r", self.endpoint)
        else:
            log.error("the cluster refused the subscriptions: %s", reasons)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def run(self) -> None:
        turn = 0
        ticked = 0.0
        while not self._stop.is_set():
            endpoint = self.settings.endpoints[turn % len(self.settings.endpoints)]
            turn += 1
            try:
                self.client.connect(endpoint.host, endpoint.port, keepalive=self.settings.keepalive)
            except OSError as e:
                log.warning("cluster node %s unreachable: %s", endpoint, e)
                self._stop.wait(0.5 if turn % len(self.settings.endpoints) else 2.0)
                continue
            self.endpoint = endpoint
            while not self._stop.is_set():
                if self.client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                    log.warning("lost cluster node %s; trying the next", endpoint)
                    break
                if self._tick is not None and time.monotonic() - ticked >= GAP_LOOK_S:
                    ticked = time.monotonic()
                    self._tick()
            self.connected.clear()
        self.client.disconnect()


class Collector:
    """Stores every hub's journal; asks hubs for what is missing."""

    def __init__(self, settings: ClusterSettings, dsn: str, name: str = "collector-1") -> None:
        self.db = store.connect(dsn)
        self.session = ClusterSession(
            settings, f"city-collector-{name}",
            ["luot/+/" + p.JOURNAL, "luot/+/" + p.DEVICE + "+/status"],
            self._on_message, tick=self._look_for_gaps,
        )
        self._seen: dict[tuple[str, int, int], float] = {}  # gap → when first seen
        self._asked: dict[tuple[str, int, int], float] = {}
        self.stored = 0
        self.received = 0
        self.resends_asked = 0

    def start(self) -> None:
        self.session.start()

    def stop(self) -> None:
        self.session.stop()
        self.db.close()

    def _on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != "luot":
            return
        site = parts[1]
        try:
            if "/".join(parts[2:]) == p.JOURNAL:
                message = parse(site, payload)
                self.stored += store.store_events(self.db, message.hub, message.head, message.events,
                                                  time.time())
                self.received += len(message.events)
            elif (len(parts) == 5 and parts[2] == "device" and parts[4] == "status"
                  and payload in (b"online", b"offline") and len(parts[3]) <= 64):
                store.store_device(self.db, site, parts[3], payload == b"online", time.time())
        except BadMessage as e:
            log.info("dropped a message on %s: %s", topic, e)
        except psycopg.Error as e:
            # Not acknowledged work is lost here, but the gap look asks the hub again.
            log.warning("cannot store a message from %s: %s", site, e)

    def _look_for_gaps(self) -> None:
        now = time.monotonic()
        try:
            current = {(g.hub, g.first, g.last)
                       for hub in store.hubs(self.db) for g in store.gaps(self.db, hub)}
        except psycopg.Error as e:
            log.warning("cannot look for gaps: %s", e)
            return
        self._seen = {gap: self._seen.get(gap, now) for gap in current}
        self._asked = {gap: at for gap, at in self._asked.items() if gap in current}
        for gap, since in self._seen.items():
            if now - since >= GAP_LOOK_S and now - self._asked.get(gap, -RESEND_WAIT_S) >= RESEND_WAIT_S:
                hub, first, last = gap
                self._asked[gap] = now
                self.resends_asked += 1
                log.info("asking %s to resend %d..%d", hub, first, last)
                self.session.publish(f"luot/{hub}/{p.JOURNAL_RESEND}",
                                     p.encode({"from": first, "to": last}))
