"""A number from home: the city's portal takes a number at a centre, over the link.

The hub stays the only authority. The portal is a device of each centre's inventory
(id `portal`, with a kiosk's rights: it may only take); its `take` crosses the cluster
and the centre's bridge, and the hub's reply comes back the same way. No answer within
the portal's wait means the page says the centre cannot be reached and promises no
number. A take that waits in the cluster while the link is down is dropped there after
COMMAND_TTL_S (the cluster's policy, `testbed.rabbitmq.CLUSTER_POLICIES`), before the
page gives up, so a cut link never issues a number later. If the link fails after the
hub answered, the page still says nothing was promised; asking again with the same card
reuses the same command id, and the hub repeats its stored answer instead of issuing
another number.

The ID-card number is hashed here with the centre's citizen secret (the kiosks' own), so
the hub sees what its kiosks send — the same person, the same hash — and the limits per
person hold across the kiosk and the page. The number itself is never stored or sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from city.collector import ClusterSession, ClusterSettings
from kiosk.cccd import citizen_hash
from luot import protocol as p
from luot.replies import Replies

log = logging.getLogger(__name__)

PORTAL_DEVICE = "portal"
COMMAND_TTL_S = 5
WAIT_S = 8.0  # longer than COMMAND_TTL_S: what the cluster still holds when the page gives up is dropped
ID_NUMBER = re.compile(r"[0-9]{12}")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class PortalCentre:
    id: str
    name: str
    citizen_secret: str
    services: tuple[tuple[str, str], ...]  # (code, name)


@dataclass(frozen=True)
class Outcome:
    """What the page tells the citizen: a number, a refusal with its code, or no answer."""

    reached: bool
    number: str | None = None
    ahead: int | None = None
    est_wait_min: int | None = None
    error: str | None = None


class Portal:
    def __init__(self, settings: ClusterSettings, centres: list[PortalCentre], *, name: str = "portal-1",
                 wait_s: float = WAIT_S) -> None:
        self.centres = {c.id: c for c in centres}
        self.wait_s = wait_s
        self.session = ClusterSession(settings, f"city-portal-{name}", [f"luot/+/{p.REPLY}{PORTAL_DEVICE}"],
                                      self._on_reply)
        self._replies = Replies()
        self._unanswered: dict[str, str] = {}  # attempt key → command id, while no answer came
        self._lock = threading.Lock()

    def start(self) -> None:
        self.session.start()

    def stop(self) -> None:
        self.session.stop()

    def take(self, centre_id: str, service: str, id_number: str) -> Outcome:
        """Ask the centre for a number; blocks up to `wait_s`. ValueError for bad input."""
        centre = self.centres.get(centre_id)
        if centre is None:
            raise ValueError("no such centre")
        if service not in {code for code, _ in centre.services}:
            raise ValueError("no such field at this centre")
        if not ID_NUMBER.fullmatch(id_number):
            raise ValueError("an ID-card number has 12 digits")
        citizen = citizen_hash(id_number, centre.citizen_secret)
        day = datetime.now(TZ).date().isoformat()
        attempt = hashlib.sha256(f"{centre.id}|{day}|{service}|{citizen}".encode()).hexdigest()
        with self._lock:
            command_id = self._unanswered.get(attempt) or uuid.uuid4().hex
        waiting = self._replies.expect(command_id)
        body = {"id": command_id, "op": "take", "service": service, "citizen": citizen}
        if not self.session.connected.is_set():
            return Outcome(reached=False)
        self.session.publish(f"luot/{centre.id}/{p.CMD}{PORTAL_DEVICE}", p.encode(body))
        answered = waiting.done.wait(self.wait_s)
        self._replies.forget(command_id)
        with self._lock:
            if answered:
                self._unanswered.pop(attempt, None)
            else:
                self._unanswered[attempt] = command_id
        reply = waiting.reply
        if not answered or reply is None:
            return Outcome(reached=False)
        if reply.get("ok") is True:
            ticket = reply.get("ticket") if isinstance(reply.get("ticket"), dict) else {}
            return Outcome(True, str(ticket.get("number")), _int(reply.get("ahead")),
                           _int(reply.get("est_wait_min")))
        return Outcome(True, error=str(reply.get("error", p.INTERNAL))[:40])

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        try:
            reply = json.loads(payload.decode("utf-8")) if len(payload) <= p.MAX_PAYLOAD * 4 else None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return
        self._replies.answer(reply)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
