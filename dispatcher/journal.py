"""Every ticket's life as events with a per-hub sequence, for the city.

SQLite triggers on the dispatcher's own tables write the journal inside the
same transaction as the decision, so an event exists exactly when its effect
is durable and the queue code does not know the journal is there. A publisher
with its own connection and MQTT client reads what was committed and sends it
to the city over the bridge; it resends any range the city's collector asks
for, so a gap (a dropped bridge queue, a hub restart) is repaired, not just
noticed. Nothing personal is in an event: no citizen hash, no priority
category, no officer identity; only numbers, services, counters and times.

Topics, both under grants the hub already has and read by no device on the LAN:
`reply/city/journal` (out: `{"hub", "head", "events": [...]}`, also sent empty
every HEARTBEAT_S so a collector sees the tail) and `cmd/city/journal`
(in: `{"from": seq, "to": seq}`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from dispatcher.remote_numbers import install as install_remote_numbers
from luot import protocol as p
from luot.config import BrokerSettings
from luot.mqtt import make_paho_client

log = logging.getLogger(__name__)

KINDS = ("issued", "called", "recalled", "served", "no-show", "transferred", "requeued", "rated",
         "refused", "expired", "from-home", "confirmed", "skipped")
BATCH = 200  # events per message: about 30 KiB, far below the broker's packet limit
RESEND_MAX = 20_000  # events one request may ask for; a collector asks again for the rest
POLL_S = 0.02
HEARTBEAT_S = 5.0


def _ticket_trigger(name: str, when: str, ticket: str, *, kind: str, at: str, counter: str = "NULL",
                    detail: str = "NULL") -> str:
    """A trigger that journals an event of the ticket `ticket` names: the ticket's own columns
    beside the event's kind, time, counter and detail (SQL expressions)."""
    return f"""CREATE TRIGGER IF NOT EXISTS {name} {when} BEGIN
    INSERT INTO journal (kind, at, ticket, day, number, service, issued_service, counter, detail)
    SELECT {kind}, {at}, t.id, t.day, t.number, t.service, t.issued_service, {counter}, {detail}
    FROM tickets AS t WHERE t.id = {ticket};
END;
"""


_NOW = "(julianday('now') - 2440587.5) * 86400.0"
SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    ticket INTEGER,
    day TEXT,
    number TEXT,
    service TEXT,
    issued_service TEXT,
    counter INTEGER,
    detail TEXT
);
""" + _ticket_trigger(
    "journal_ticket_log", "AFTER INSERT ON ticket_log", "NEW.ticket",
    kind="CASE NEW.event WHEN 'taken' THEN 'issued' WHEN 'noshow' THEN 'no-show' ELSE NEW.event END",
    at="NEW.at", counter="NEW.counter", detail="NEW.detail",
) + _ticket_trigger(
    "journal_day_end", "AFTER UPDATE OF status ON tickets\n"
    "WHEN (OLD.status = 'waiting' AND NEW.status = 'expired')\n"
    "  OR (OLD.status = 'serving' AND NEW.status = 'served' AND NEW.finished_at IS NULL)", "NEW.id",
    kind="CASE NEW.status WHEN 'expired' THEN 'expired' ELSE 'served' END", at=_NOW, counter="t.counter",
    detail="'day_end'",
) + _ticket_trigger(
    "journal_from_home", "AFTER INSERT ON remote_numbers", "NEW.ticket", kind="'from-home'", at="t.issued_at",
) + _ticket_trigger(
    "journal_remote_turn", "AFTER UPDATE ON remote_numbers\n"
    "WHEN (OLD.confirmed_at IS NULL AND NEW.confirmed_at IS NOT NULL)\n"
    "  OR (OLD.skipped = 0 AND NEW.skipped = 1)", "NEW.ticket",
    kind="CASE WHEN NEW.skipped = 1 AND OLD.skipped = 0 THEN 'skipped' ELSE 'confirmed' END",
    at=f"COALESCE(NEW.confirmed_at, {_NOW})",
) + """CREATE TRIGGER IF NOT EXISTS journal_refused AFTER INSERT ON commands
WHEN json_valid(NEW.reply) AND json_extract(NEW.reply, '$.ok') = 0 BEGIN
    INSERT INTO journal (kind, at, day, detail, number)
    VALUES ('refused', NEW.at, (SELECT MAX(day) FROM days), json_extract(NEW.reply, '$.error'),
            NEW.device);
END;
"""

COLUMNS = ("seq", "kind", "at", "ticket", "day", "number", "service", "issued_service", "counter",
           "detail")


def install(db: sqlite3.Connection) -> None:
    """Create the journal and its triggers in the dispatcher's database (idempotent)."""
    install_remote_numbers(db)
    db.executescript(SCHEMA)


def head(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]


def read_events(db: sqlite3.Connection, after: int, upto: int | None = None,
                limit: int = BATCH) -> list[dict[str, Any]]:
    """Events with `after` < seq ≤ `upto`, in sequence order. A refusal's `number` is the
    refused device's id (the journal's spare column), sent as `device`."""
    rows = db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        (after, upto if upto is not None else 2**62, limit),
    ).fetchall()
    events = []
    for row in rows:
        event = {k: row[i] for i, k in enumerate(COLUMNS) if row[i] is not None}
        if event["kind"] == "refused":
            event["device"] = event.pop("number", None)
        events.append(event)
    return events


def parse_resend(payload: bytes) -> tuple[int, int]:
    """A collector's request `{"from": a, "to": b}` (inclusive, 1 ≤ a ≤ b), or ProtocolError."""
    if len(payload) > 256:
        raise p.ProtocolError(p.TOO_LARGE, "a resend request is a few bytes")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise p.ProtocolError(p.BAD_JSON, "a resend request is a JSON object") from None
    if not isinstance(data, dict) or set(data) != {"from", "to"}:
        raise p.ProtocolError(p.BAD_SCHEMA, "a resend request is {\"from\": seq, \"to\": seq}")
    first, last = data["from"], data["to"]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (first, last)) or not 1 <= first <= last:
        raise p.ProtocolError(p.BAD_SCHEMA, "from and to are sequence numbers, 1 ≤ from ≤ to")
    return first, min(last, first + RESEND_MAX - 1)


class JournalPublisher:
    """Sends newly committed events, a heartbeat with the head, and resent ranges on request.

    Its own read-only connection in WAL mode never blocks the dispatcher; a new commit is
    seen through `PRAGMA data_version`. The link to the city is the bridge's business: this
    publishes to the hub's own broker, so the dispatcher never waits on the city.
    """

    def __init__(self, site_id: str, database: str | Path, broker: BrokerSettings, *,
                 device_id: str = "hub") -> None:
        self.site_id = site_id
        self.topics = p.Topics(site_id)
        writer = sqlite3.connect(str(database))
        try:
            install(writer)
        finally:
            writer.close()
        self.db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
        self.sent = head(self.db)
        self._version = -1
        self._resend: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.client = make_paho_client(broker, f"{device_id}-journal")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._broker = broker
        self.published = 0
        self.resent = 0

    def start(self) -> None:
        self.client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()
        self.db.close()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("the broker refused the journal: %s", reason)
            return
        client.subscribe(self.topics.root + p.JOURNAL_RESEND, qos=1)
        self._wake.set()

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        try:
            wanted = parse_resend(msg.payload)
        except p.ProtocolError as e:
            log.info("ignored a resend request: %s", e)
            return
        with self._lock:
            self._resend.append(wanted)
        self._wake.set()

    def _run(self) -> None:
        beat_at = 0.0
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                with self._lock:
                    asked, self._resend = self._resend, []
                for first, last in asked:
                    self._send_range(first - 1, last, resent=True)
                version = self.db.execute("PRAGMA data_version").fetchone()[0]
                if version != self._version:
                    self._version = version
                    self.sent = self._send_range(self.sent, None, resent=False)
                now = time.monotonic()
                if woken or now - beat_at >= HEARTBEAT_S:
                    beat_at = now
                    self._publish([], resent=False)
            except sqlite3.Error as e:
                log.warning("cannot read the journal: %s", e)

    def _send_range(self, after: int, upto: int | None, *, resent: bool) -> int:
        """Publish events after `after` up to `upto`; return the last seq sent."""
        while True:
            events = read_events(self.db, after, upto)
            if not events:
                return after
            self._publish(events, resent=resent)
            after = events[-1]["seq"]

    def _publish(self, events: list[dict[str, Any]], *, resent: bool) -> None:
        message = {"hub": self.site_id, "head": head(self.db), "events": events}
        if resent:
            message["resent"] = True
        self.client.publish(self.topics.root + p.JOURNAL, p.encode(message), qos=1)
        self.published += len(events)
        self.resent += len(events) if resent else 0
