"""The dispatcher's MQTT side: commands in, replies and retained state out.

One worker thread owns the database and drives the MQTT connection itself
(paho's external-loop API, no network thread: `dispatcher.network`), so a
command is read, applied, committed and answered without a hand-off between
threads. It drains whatever commands have arrived, applies them in one
transaction (a savepoint each, so one failure undoes only itself), commits
once — group commit, one fsync for the batch; under load the fsync runs on a
committer thread while the worker keeps reading the next batch — and only then
acknowledges the commands to the broker, sends the replies and publishes the
state that changed. A power cut before the commit loses no reply anyone saw;
the broker still holds the unacknowledged commands and delivers them again.

Every command goes through one guard (`dispatcher.intake`) and is answered and
acknowledged. A full card fails the whole batch: every command in it is
refused with `storage_full`, nothing is stored, the hub's health says so, and
the next batch tries again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from dispatcher.clock import OK as CLOCK_OK
from dispatcher.clock import ClockGuard
from dispatcher.intake import Incoming, Intake, StorageFull
from dispatcher.network import DrivenLink
from dispatcher.queue import Effects, QueueBook
from dispatcher.storage import open_database
from luot import protocol as p
from luot.config import BrokerSettings, SiteConfig
from luot.mqtt import make_paho_client, session_properties
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger(__name__)

MAX_BATCH = 512
TICK_S = 0.25  # the longest the worker sleeps: stop, watchdog and clock checks
CLOCK_TICK_S = 1.0  # an empty batch this often: the day's rollover, taking hours, refresh
STATE_REFRESH_S = 10.0
FIGURES_EVERY_S = 0.25
SESSION_EXPIRY_S = 7 * 86400


class Dispatcher:
    def __init__(
        self,
        site: SiteConfig,
        database: str | Path,
        broker: BrokerSettings,
        *,
        device_id: str = "hub",
        clock: Callable[[], datetime] | None = None,
        notifier: Notifier | None = None,
        max_pages: int | None = None,
        clock_guard: ClockGuard | None = None,
    ) -> None:
        self.site = site
        self.topics = p.Topics(site.id)
        self.clock = clock or site.now
        self.notifier = notifier or Notifier()
        self.db = open_database(database, max_pages=max_pages)
        self.book = QueueBook(self.db, site)
        self.intake = Intake(self.db, self.book, site, clock_guard)
        self._inbox: deque[Incoming] = deque()
        self._republish = False  # after a (re)connect: every retained topic again
        self.update = UpdateHooks(None)  # __main__ gives it the unit's folder
        self._published: dict[str, bytes] = {}
        self._stop = threading.Event()
        self._ticked_at = 0.0
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._committed_r, self._committed_w = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0
        self._due_services: set[str] = set()
        self._due_site = False
        self._figures_at = 0.0
        self.batches = 0
        self.commands = 0
        self.storage_full = False
        self.connections = 0  # accepted CONNACKs: one, unless the link was lost or taken
        self._clock_state: str | None = None  # as last published in the health
        # A fixed client id and a persistent session: commands sent while the dispatcher
        # was down or restarting wait in the broker for it.
        self.client = make_paho_client(broker, f"{device_id}-dispatcher", manual_ack=True)
        self.client.will_set(self.topics.device_status(device_id), b"offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.net = DrivenLink(self.client, broker)
        self._broker = broker
        self._device_id = device_id

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Run the dispatcher in a background thread (tests, the demo)."""
        self._thread = threading.Thread(target=self.run, name="dispatcher", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Serve in this thread until `stop_soon()` (the service)."""
        self.client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=self._broker.keepalive,
            clean_start=False,
            properties=session_properties(SESSION_EXPIRY_S),
        )
        self._work()

    def stop_soon(self) -> None:
        """Ask the worker to finish its batch and return (safe from a signal handler)."""
        self._stop.set()

    def stop(self) -> None:
        self.stop_soon()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        """Say `offline`, disconnect and close the database; after the worker has returned."""
        if self.client.is_connected():
            info = self.client.publish(
                self.topics.device_status(self._device_id), b"offline", qos=1, retain=True
            )
            deadline = time.monotonic() + 1.0
            while not info.is_published() and time.monotonic() < deadline:
                self.net.round(0.05)
            self.client.disconnect()
            self.client.loop_write()
        self._committer.shutdown()
        self._committed_r.close()
        self._committed_w.close()
        self.db.close()

    # ------------------------------------------------------------------ the network

    def _read_waiting(self) -> None:
        """Read every command already on the socket, so that one commit serves them all."""
        for _ in range(MAX_BATCH):
            if len(self._inbox) >= MAX_BATCH or not self.net.readable():
                return
            self.net.round(0.0)

    def _commit(self, *, overlap: bool) -> None:
        """Under load, COMMIT on the committer thread while this one keeps reading the socket,
        so the next batch gathers during this one's fsync; a lone command commits here, without
        the hand-off. Either way nothing is sent until the commit has returned."""
        if not overlap:
            self.db.execute("COMMIT")
            return
        future = self._committer.submit(self._commit_and_signal)
        while not self.net.round(TICK_S, also=(self._committed_r,)):
            pass
        self._committed_r.recv(1)
        future.result()

    def _commit_and_signal(self) -> None:
        try:
            self.db.execute("COMMIT")
        finally:
            self._committed_w.send(b"c")

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("the broker refused the dispatcher: %s", reason)
            return
        self.net.connected()
        self.connections += 1
        # Retained commands are never executed: none is sent at (re)subscription, and one
        # published while we listen keeps its retained flag, so that it can be refused.
        options = SubscribeOptions(
            qos=1, retainAsPublished=True, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND
        )
        client.subscribe(f"{self.topics.root}cmd/+", options=options)
        client.publish(self.topics.device_status(self._device_id), b"online", qos=1, retain=True)
        self._republish = True
        self._publish_health()
        log.info("connected to the broker; serving site %s", self.site.id)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        props = msg.properties
        correlation = getattr(props, "CorrelationData", None) if props else None
        expiry = getattr(props, "MessageExpiryInterval", None) if props else None
        deadline = self.net.received_at + expiry if isinstance(expiry, int) else None
        device = msg.topic.rsplit("/", 1)[-1]
        self._inbox.append(
            Incoming(device, msg.payload, correlation if isinstance(correlation, bytes) else None,
                     msg.mid, msg.qos, bool(msg.retain), deadline)
        )

    # ------------------------------------------------------------------ the worker

    def _work(self) -> None:
        self.notifier.ready(f"serving {self.site.id}")
        while not self._stop.is_set():
            self.notifier.pet()
            self.net.pump(0.0 if self._inbox else self._figures_wait())
            self._read_waiting()
            batch = [self._inbox.popleft() for _ in range(min(len(self._inbox), MAX_BATCH))]
            if batch or self._republish or time.monotonic() - self._ticked_at >= CLOCK_TICK_S:
                self._ticked_at = time.monotonic()
                self._process(batch)
            elif self._figures_wait() == 0.0:
                self._publish_figures(self.clock(), force=False)
        self.notifier.stopping()

    def _process(self, batch: list[Incoming]) -> None:
        now = self.clock()
        effects = Effects()
        republish, self._republish = self._republish, False
        try:
            replies = self.intake.apply(batch, now, effects,
                                        lambda overlap: self._commit(overlap=overlap))
        except StorageFull:
            effects = Effects()
            refusal = "the hub's storage is full; nothing was stored"
            replies = [(item, p.encode(p.error_reply(Intake.correlation_id(item), p.STORAGE_FULL,
                                                     refusal)))
                       for item in batch]
            self._set_storage_full(True)
        else:
            self._set_storage_full(False)
        guard = self.intake.clock_guard
        if guard is not None and guard.state != self._clock_state:
            self._clock_state = guard.state
            self._due_site = True  # every screen says why no numbers are given, or that they are again
            self._publish_health()
        # Durable from here on. The hallway's path first (counters and calls), then the
        # replies, then the figures that can wait a millisecond.
        self.batches += 1
        self.commands += len(replies)
        refresh = time.monotonic() - self._last_refresh >= STATE_REFRESH_S
        if republish or refresh:
            effects.everything(self.site)
            self._last_refresh = time.monotonic()
        if republish:
            self._retain(self.topics.config, self.site.catalogue(), force=True)
            self.update.ready()  # connected, every retained topic out: up, for the Pi's updater
        for item, _ in replies:
            self.client.ack(item.mid, item.qos)
        self._publish_calls(effects, force=republish)
        for item, reply in replies:
            self._reply(item, reply)
        self._due_services |= effects.services
        self._due_site |= effects.site
        if republish or self._figures_wait() == 0.0:
            self._publish_figures(now, force=republish)

    def _set_storage_full(self, full: bool) -> None:
        if full != self.storage_full:
            self.storage_full = full
            log.warning("storage %s", "full: refusing commands" if full else "writable again")
            self._publish_health()

    def _publish_health(self) -> None:
        """The dispatcher's health, retained: what a technician and `luot admin` see."""
        guard = self.intake.clock_guard
        health = {"storage": "full" if self.storage_full else "ok",
                  "clock": guard.state if guard else "as_is",
                  "clock_detail": guard.detail if guard else "the clock is taken as it is"}
        self.client.publish(self.topics.device_health(self._device_id), p.encode(health),
                            qos=1, retain=True)

    def _reply(self, item: Incoming, reply: bytes) -> None:
        props = Properties(PacketTypes.PUBLISH)
        if item.correlation:
            props.CorrelationData = item.correlation
        self.client.publish(self.topics.reply(item.device), reply, qos=1, properties=props)

    def _publish_calls(self, effects: Effects, *, force: bool) -> None:
        for number in sorted(effects.counters):
            self._retain(self.topics.counter_state(number), self.book.counter_state(number), force)
        for seq in effects.calls:
            self.client.publish(self.topics.call_event, p.encode(self.book.call_event(seq)), qos=1)

    def _figures_wait(self) -> float:
        """Seconds until waiting counts and estimates are due: they go out at once after a
        quiet spell, at most every FIGURES_EVERY_S in a busy one, as each costs a scan of the
        day's tickets. TICK_S when none are pending."""
        if not (self._due_services or self._due_site):
            return TICK_S
        return max(0.0, FIGURES_EVERY_S - (time.monotonic() - self._figures_at))

    def _publish_figures(self, now: datetime, *, force: bool) -> None:
        for code in sorted(self._due_services):
            self._retain(self.topics.service_state(code), self.book.service_state(code, now), force)
        if self._due_site:
            self._retain(self.topics.site_state, self._site_state(now), force)
        self._due_services = set()
        self._due_site = False
        self._figures_at = time.monotonic()

    def _site_state(self, now: datetime) -> dict[str, Any]:
        """The site's state; while the clock guard holds numbers, `taking` is false and `clock`
        says why."""
        state = self.book.site_state(now)
        guard = self.intake.clock_guard
        if guard is not None and guard.state != CLOCK_OK:
            state.update(taking=False, clock=guard.state)
        return state

    def _retain(self, topic: str, payload: dict[str, Any], force: bool) -> None:
        encoded = p.encode(payload)
        if force or self._published.get(topic) != encoded:
            self._published[topic] = encoded
            self.client.publish(topic, encoded, qos=1, retain=True)

    # ------------------------------------------------------------------ for the CLI and tests

    def snapshot(self) -> dict[str, Any]:
        """The retained state as the database says it now (what a fresh start would publish)."""
        now = self.clock()
        return {
            "site": self._site_state(now),
            "counters": {c.number: self.book.counter_state(c.number) for c in self.site.counters},
            "services": {s.code: self.book.service_state(s.code, now) for s in self.site.services},
        }

