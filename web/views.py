"""What each page shows, as plain data computed from one `Snapshot` of the retained state.

The pages render these with their own bilingual texts. A ticket page is told only what the
hall's board shows plus its own place in line, which it estimates from its field's figures
(numbers are called in order within a field; a priority citizen or a requeue can move it).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from luot.config.site import zone_named
from luot.mqtt import HUB_ID
from luot.ticket_link import TicketRef
from web.hub import Snapshot


def _service(snap: Snapshot, code: str) -> dict[str, Any]:
    return next((s for s in snap.catalogue.get("services", []) if s.get("code") == code), {})


def _counters(snap: Snapshot) -> list[dict[str, Any]]:
    return [c for c in snap.catalogue.get("counters", []) if isinstance(c.get("number"), int)]


def _name(snap: Snapshot, code: str) -> dict[str, str]:
    service = _service(snap, code)
    return {"code": code, "name": service.get("name", code), "name_en": service.get("name_en", "")}


def _centre(snap: Snapshot) -> dict[str, str]:
    return {"name": snap.catalogue.get("name", ""), "name_en": snap.catalogue.get("name_en", "")}


def _serving(state: dict[str, Any] | None) -> dict[str, Any] | None:
    ticket = (state or {}).get("ticket")
    if not isinstance(ticket, dict):
        return None
    return {"id": ticket.get("id"), "number": ticket.get("number"), "service": ticket.get("service"),
            "priority": ticket.get("priority"), "called_at": (state or {}).get("called_at"),
            "calls": (state or {}).get("calls", 0)}


def _counter_row(snap: Snapshot, counter: dict[str, Any]) -> dict[str, Any]:
    state = snap.counters.get(counter["number"], {})
    return {"number": counter["number"], "name": counter.get("name", ""),
            "services": counter.get("services", []), "status": state.get("status", "unknown"),
            "serving": _serving(state), "call_seq": state.get("call_seq", 0)}


def _field_row(snap: Snapshot, code: str) -> dict[str, Any]:
    state = snap.services.get(code, {})
    keys = ("waiting", "waiting_priority", "issued", "last_issued", "served", "noshow", "remaining",
            "taking", "open_counters", "est_wait_min", "avg_wait_min")
    return {**_name(snap, code), **{k: state.get(k) for k in keys}}


def _health(snap: Snapshot) -> dict[str, Any]:
    return {"linked": snap.linked, "hub_online": snap.hub_online, "day": snap.site.get("day"),
            "open": snap.site.get("open"), "taking": snap.site.get("taking")}


def sequence_of(service: dict[str, Any], number: str) -> int | None:
    """A ticket's place in its field's daily sequence, from its number as the field spells it."""
    prefix, block = service.get("prefix"), service.get("block_start")
    if isinstance(prefix, str) and number.startswith(prefix) and number[len(prefix):].isdigit():
        return int(number[len(prefix):])
    if isinstance(block, int) and number.isdigit():
        return int(number) - block
    return None


def _ticket_common(snap: Snapshot, code: str) -> str:
    """The part of a ticket page's view every ticket of a field shares, as JSON without its
    closing brace: encoded once per change, not once per phone."""
    key = ("ticket", code)
    if key not in snap.memo:
        common = {
            "kind": "ticket", **_health(snap), "centre": _centre(snap), "field": _name(snap, code),
            "checklist_url": _service(snap, code).get("checklist_url"),
            "counters": [_counter_row(snap, c) for c in _counters(snap) if code in c.get("services", [])],
        }
        snap.memo[key] = json.dumps(common, ensure_ascii=False, separators=(",", ":"))[:-1]
    return snap.memo[key]


def _serving_index(snap: Snapshot) -> dict[int, dict[str, Any]]:
    """Ticket id → the state of the counter serving it now."""
    if "serving" not in snap.memo:
        snap.memo["serving"] = {s["ticket"]["id"]: s for s in snap.counters.values()
                                if isinstance(s.get("ticket"), dict) and "id" in s["ticket"]}
    return snap.memo["serving"]


def ticket_status(snap: Snapshot, ref: TicketRef) -> dict[str, Any]:
    """This ticket's own part of its page: its number, where it stands, or where to go."""
    figures = snap.services.get(ref.service, {})
    view: dict[str, Any] = {"number": ref.number, "status": "unknown", "ahead": None,
                            "est_wait_min": None, "counter": None, "calls": 0}
    at = _serving_index(snap).get(ref.ticket_id)
    seq = sequence_of(_service(snap, ref.service), ref.number)
    waiting, issued = figures.get("waiting"), figures.get("issued")
    if snap.site.get("day") and snap.site["day"] != ref.day:
        view["status"] = "other_day"
    elif at is not None:
        view.update(status="called", counter=at.get("counter"), calls=at.get("calls", 1))
    elif ref.ticket_id in snap.called:
        view.update(status="passed", counter=snap.called[ref.ticket_id])
    elif isinstance(waiting, int) and isinstance(issued, int) and seq is not None:
        ahead = waiting - (issued - seq) - 1
        if ahead < 0:
            view["status"] = "passed"
        else:
            estimate = figures.get("est_wait_min")
            view.update(status="waiting", ahead=ahead,
                        est_wait_min=round(estimate * ahead / waiting) if estimate is not None and waiting
                        else None)
    return view


def ticket_json(snap: Snapshot, ref: TicketRef) -> str:
    """A ticket page's whole view, encoded: the field's shared part, then the ticket's own."""
    own = json.dumps(ticket_status(snap, ref), ensure_ascii=False, separators=(",", ":"))
    return f"{_ticket_common(snap, ref.service)},{own[1:]}"


def counter_view(snap: Snapshot, number: int) -> dict[str, Any]:
    counter = next((c for c in _counters(snap) if c["number"] == number), None)
    if counter is None:
        return {"kind": "counter", **_health(snap), "number": number, "known": False}
    row = _counter_row(snap, counter)
    return {
        "kind": "counter", **_health(snap), "known": True, **row,
        "line": [_field_row(snap, code) for code in counter.get("services", [])],
        "fields": [_name(snap, s["code"]) for s in snap.catalogue.get("services", [])],
        "unprinted": _unprinted(snap),
    }


def _device_rows(snap: Snapshot) -> list[dict[str, Any]]:
    rows = []
    for device, entry in sorted(snap.devices.items()):
        health = entry.get("health") or {}
        paper = health.get("paper") if isinstance(health, dict) else None
        rows.append({"id": device, "status": entry.get("status"), "paper": paper,
                     "printer_fault": health.get("printer_fault") if isinstance(health, dict) else None})
    return rows


def _unprinted(snap: Snapshot) -> list[dict[str, Any]]:
    """Every ticket a kiosk could not print, which an officer can have printed again."""
    if "unprinted" not in snap.memo:
        rows = []
        for device, entry in sorted(snap.devices.items()):
            health = entry.get("health") or {}
            numbers = health.get("unprinted") if health.get("role") == "kiosk" else None
            if isinstance(numbers, list):
                rows += [{"kiosk": device, "number": n, "online": entry.get("status") == "online"}
                         for n in numbers if isinstance(n, str)]
        snap.memo["unprinted"] = rows
    return snap.memo["unprinted"]


def hub_clock(snap: Snapshot) -> dict[str, Any]:
    """Whether the dispatcher trusts its clock (its health), and the hub's time now: the web
    service runs on the hub, so its clock is the one the leader is asked to confirm."""
    health = snap.devices.get(HUB_ID, {}).get("health") or {}
    return {"state": health.get("clock"), "detail": health.get("clock_detail"),
            "now": datetime.now(zone_named(str(snap.catalogue.get("timezone") or "Asia/Ho_Chi_Minh")))
            .isoformat(timespec="seconds")}


def dashboard_view(snap: Snapshot) -> dict[str, Any]:
    return {
        "clock": hub_clock(snap),
        "kind": "dashboard", **_health(snap),
        "centre": _centre(snap),
        "today": {k: snap.site.get(k) for k in ("issued", "waiting", "served", "avg_wait_min")},
        "counters": [_counter_row(snap, c) for c in _counters(snap)],
        "fields": [_field_row(snap, s["code"]) for s in snap.catalogue.get("services", [])],
        "devices": _device_rows(snap),
        "unprinted": _unprinted(snap),
    }


def board_view(snap: Snapshot) -> dict[str, Any]:
    return {
        "kind": "board", **_health(snap),
        "centre": _centre(snap),
        "notice": snap.catalogue.get("notice", ""), "notice_en": snap.catalogue.get("notice_en", ""),
        "counters": [_counter_row(snap, c) for c in _counters(snap)],
        "fields": [_field_row(snap, s["code"]) for s in snap.catalogue.get("services", [])],
        "calls": [{"seq": c.get("seq"), "counter": c.get("counter"),
                   "number": (c.get("ticket") or {}).get("number"), "recall": c.get("recall")}
                  for c in snap.calls[:5]],
    }
