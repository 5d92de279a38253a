"""The hub as the web service sees it: the retained state every screen follows, the devices'
status and health for the leader, the latest calls, and a wake-up for the browsers' streams.

`HubLink` (the same link every device uses) keeps the retained `state/…` and `config` and
sends the consoles' commands. The devices' `status` is plain text, not JSON: the same
connection watches `device/+/status` and `device/+/health` as raw bytes (the broker binds a
client id to its user, so the web service has one connection).
Everything the pages read is changed on the asyncio loop's thread only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from luot import protocol as p
from luot.config import BrokerSettings
from luot.mqtt import HUB_ID, HubLink

log = logging.getLogger(__name__)
RECENT_CALLS = 8
# A reprint order the kiosk has not received this soon is dropped by the broker (it starts
# printing within desk.ORDER_START_WITHIN_S of receiving it, or answers `expired`).
ORDER_EXPIRY_S = 5


class Changes:
    """A version number and a wake-up for everyone waiting on the next one."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._event = asyncio.Event()

    def close(self) -> None:
        """Wake every stream for the last time: the service is stopping."""
        self.closed = True
        self.bump()

    def bump(self) -> None:
        self.version += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seen: int, timeout: float) -> None:
        """Return once the version is past `seen`, or after `timeout` seconds."""
        if self.version != seen:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


@dataclass(frozen=True)
class Snapshot:
    """One consistent reading of the hub for the views."""

    linked: bool  # the web service's own link to the broker
    hub_online: bool  # the broker reached and the dispatcher's retained status `online`
    catalogue: dict[str, Any]
    site: dict[str, Any]
    counters: dict[int, dict[str, Any]]
    services: dict[str, dict[str, Any]]
    calls: tuple[dict[str, Any], ...]
    called: dict[int, int]  # ticket id → the counter it was last seen called to
    devices: dict[str, dict[str, Any]]
    # What many pages share, computed once per snapshot (e.g. a field's counters, encoded).
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)


class HubWatch:
    def __init__(self, broker: BrokerSettings, *, device_id: str, site: str, hub_id: str = HUB_ID) -> None:
        self.device_id = device_id
        self.link = HubLink(broker, device_id=device_id, site=site, purpose="web", hub_id=hub_id)
        self.topics = self.link.topics
        self.changes: Changes | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self._called: dict[int, int] = {}
        self._devices: dict[str, dict[str, Any]] = {}
        self._snapshot: tuple[int, Snapshot] | None = None
        self._orders: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.link.watch(f"{p.DEVICE}+/status", 1, self._watch_message)
        self.link.watch(f"{p.DEVICE}+/health", 0, self._watch_message)
        self.link.watch(f"{p.DEVICE}+/{p.REPRINTED}", 1, self._watch_message)
        self.link.add_handler(self._on_message)
        self.link.add_connection_handler(lambda _up: self._soon(self._changed))
        self.link.add_hub_handler(lambda _online: self._soon(self._changed))

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.changes = Changes()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    async def reprint(self, kiosk: str, number: str, timeout: float) -> dict[str, Any]:
        """Order `kiosk` to print `number` again and wait for its answer.

        Raises HubUnreachable when the order cannot be sent, TimeoutError when no answer came.
        """
        order = {"id": uuid.uuid4().hex, "number": number}
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._orders[order["id"]] = answer
        try:
            self.link.send(p.REPRINT + kiosk, order, expiry_s=ORDER_EXPIRY_S)
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._orders.pop(order["id"], None)

    # ------------------------------------------------------------------ from the network threads

    def _soon(self, callback: Any, *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback, *args)

    def _on_message(self, topic: str, payload: Any, _retained: bool) -> None:
        self._soon(self._apply, topic, payload)

    def _watch_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) == 3 and len(payload) <= p.MAX_PAYLOAD:
            self._soon(self._device, parts[1], parts[2], payload)

    # ------------------------------------------------------------------ on the loop's thread

    def _changed(self) -> None:
        if self.changes is not None:
            self.changes.bump()

    def _apply(self, topic: str, payload: Any) -> None:
        if topic == p.CALL_EVENT and isinstance(payload, dict):
            self._calls.appendleft(payload)
        elif topic.startswith(p.COUNTER_STATES) and isinstance(payload, dict):
            ticket = payload.get("ticket")
            if isinstance(ticket, dict) and isinstance(ticket.get("id"), int):
                self._called[ticket["id"]] = int(payload.get("counter") or 0)
                if len(self._called) > 20_000:
                    self._called.clear()
        self._changed()

    def _device(self, device: str, kind: str, payload: bytes) -> None:
        if kind == p.REPRINTED:
            self._reprinted(device, payload)
            return
        entry = self._devices.setdefault(device, {})
        if kind == "status":
            entry["status"] = payload.decode("utf-8", "replace")[:16] or None
        elif kind == "health":
            try:
                health = json.loads(payload) if payload else None
            except ValueError:
                health = None
            entry["health"] = health if isinstance(health, dict) else None
        self._changed()

    def _reprinted(self, device: str, payload: bytes) -> None:
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = None
        order = answer.get("id") if isinstance(answer, dict) else None
        waiting = self._orders.get(order) if isinstance(order, str) else None
        if waiting is None or waiting.done():
            log.info("%s answered a reprint order nobody waits for: %.80r", device, payload)
            return
        waiting.set_result(answer)

    def snapshot(self) -> Snapshot:
        """The hub now, read once per change however many browsers ask."""
        assert self.changes is not None
        version = self.changes.version
        if self._snapshot is not None and self._snapshot[0] == version:
            return self._snapshot[1]
        counters = {}
        for topic, state in self.link.states(p.COUNTER_STATES).items():
            number = topic[len(p.COUNTER_STATES):]
            if number.isdigit() and isinstance(state, dict):
                counters[int(number)] = state
        services = {topic[len(p.SERVICE_STATES):]: state
                    for topic, state in self.link.states(p.SERVICE_STATES).items() if isinstance(state, dict)}
        catalogue = self.link.state(p.CONFIG)
        site = self.link.state(p.SITE_STATE)
        snap = Snapshot(
            linked=self.link.connected,
            hub_online=self.link.hub_online,
            catalogue=catalogue if isinstance(catalogue, dict) else {},
            site=site if isinstance(site, dict) else {},
            counters=counters,
            services=services,
            calls=tuple(self._calls),
            called=dict(self._called),
            devices={k: dict(v) for k, v in self._devices.items()},
        )
        self._snapshot = (version, snap)
        return snap
