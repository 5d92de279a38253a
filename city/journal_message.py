"""Reading a hub's journal message from the cluster: hostile until checked.

A message that breaks the schema is dropped whole; an event that breaks it is
dropped alone, so a collector never stores what the hub did not say. Only the
topic names the hub: its bridge publishes under `luot/<site>/`, whatever the
payload claims.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from dispatcher.journal import BATCH, KINDS

MAX_MESSAGE = 256 * 1024
SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_TEXT = ("day", "number", "service", "issued_service", "detail", "device")


class BadMessage(ValueError):
    """The message is not a journal message."""


@dataclass(frozen=True)
class JournalMessage:
    hub: str
    head: int
    events: list[dict[str, Any]]
    resent: bool


def _seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**62


def _event(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not _seq(raw.get("seq")) or raw.get("kind") not in KINDS:
        return None
    at = raw.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 < at < 2**33:
        return None
    event: dict[str, Any] = {"seq": raw["seq"], "kind": raw["kind"], "at": float(at)}
    for key in ("ticket", "counter"):
        value = raw.get(key)
        if value is not None:
            if not _seq(value) or value >= 2**31:
                return None
            event[key] = value
    for key in _TEXT:
        value = raw.get(key)
        if value is not None:
            if not isinstance(value, str) or len(value) > 64:
                return None
            event[key] = value
    return event


def parse(topic_site: str, payload: bytes) -> JournalMessage:
    """The checked message, keeping only well-formed events; BadMessage when none of it is."""
    if not SITE_ID.fullmatch(topic_site):
        raise BadMessage(f"not a site id: {topic_site!r}")
    if len(payload) > MAX_MESSAGE:
        raise BadMessage(f"{len(payload)} bytes")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadMessage("not JSON in UTF-8") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BadMessage("not a journal message")
    head = data.get("head")
    if not (head == 0 or _seq(head)) or isinstance(head, bool):
        raise BadMessage("no head")
    if len(data["events"]) > BATCH:
        raise BadMessage(f"{len(data['events'])} events; a hub sends at most {BATCH}")
    events = [e for e in map(_event, data["events"]) if e is not None and e["seq"] <= head]
    return JournalMessage(topic_site, head, events, data.get("resent") is True)
