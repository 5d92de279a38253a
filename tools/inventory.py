"""The devices of a centre as the technician needs to see them: every device of the site's
inventory, online or not, when it last reported, its software, its printer or voice.

Read from the broker's retained `device/<id>/status` and `device/<id>/health`. To know
that every retained message has come, the watch publishes a probe in its own health and
waits for it: the broker sends the retained messages of a subscription before anything
published after it.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from luot import protocol as p
from luot.config import DeviceEntry
from luot.mqtt import HubLink

DASH = "—"


@dataclass
class DeviceReport:
    """What the broker holds of one device."""

    id: str
    status: str | None = None  # online / offline; None: never connected
    health: dict[str, Any] = field(default_factory=dict)
    update: dict[str, Any] = field(default_factory=dict)  # from its Pi's updater (fleet/)


class DeviceWatch:
    """Collects every device's retained status and health on the admin's own link (the broker
    binds a client id to its user, so a second connection would push the link off).

    Make it before `link.start()`. Its health carries a fresh token; when that comes back
    through the watch, every retained message of the subscription has come before it.
    """

    def __init__(self, link: HubLink) -> None:
        self.reports: dict[str, DeviceReport] = {}
        self._own = link.device_id
        self._token = uuid.uuid4().hex
        self._done = threading.Event()
        link.watch(f"{p.DEVICE}#", 1, self._on_message)
        link.publish_health({"role": "admin", "probe": self._token})

    def wait(self, timeout: float) -> dict[str, DeviceReport]:
        self._done.wait(timeout)
        return self.reports

    def _on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) != 3:
            return
        _, device, kind = parts
        report = self.reports.setdefault(device, DeviceReport(device))
        if kind == "status":
            report.status = payload.decode("utf-8", "replace") or None
        elif kind == "health":
            try:
                health = json.loads(payload)
            except ValueError:
                health = {}
            if device == self._own and isinstance(health, dict) and health.get("probe") == self._token:
                self._done.set()
                return
            report.health = health if isinstance(health, dict) else {}
        elif kind == p.UPDATE:
            try:
                update = json.loads(payload)
            except ValueError:
                update = {}
            report.update = update if isinstance(update, dict) else {}


def _text(value: Any) -> str:
    return DASH if value is None or value == "" else str(value)


def _version(report: DeviceReport) -> str:
    """What its Pi's updater says it runs, else what the role reports of itself."""
    if report.update.get("version"):
        return str(report.update["version"])
    health = report.health
    versions = health.get("versions")
    if isinstance(versions, dict) and versions.get("luot"):
        return str(versions["luot"])
    return _text(health.get("version"))


def _update(update: dict[str, Any]) -> str:
    """Where a fleet update stands: `healthy`, or the state and the release it is about."""
    state = update.get("state")
    if not state or state == "idle":
        return DASH
    target = update.get("target")
    return str(state) if state == "healthy" or not target else f"{state} {target}"


def _detail(role: str, health: dict[str, Any]) -> str:
    """The role's own part: paper and unprinted tickets, the voice pack, the LED board."""
    if role == "kiosk" and health:
        unprinted = health.get("unprinted") or []
        parts = [f"giấy (paper) {_text(health.get('paper'))}"]
        if health.get("printer_fault"):
            parts.append(f"lỗi máy in (fault) {health['printer_fault']}")
        if unprinted:
            parts.append(f"chưa in (unprinted) {', '.join(map(str, unprinted))}")
        return "; ".join(parts)
    if role == "display" and health:
        return f"giọng đọc (voice) {_text(health.get('voice'))}"
    if role == "counter" and isinstance(health.get("board"), dict):
        return f"bảng số (board) {_text(health['board'].get('status'))}"
    return ""


def problems(inventory: list[DeviceEntry], reports: dict[str, DeviceReport]) -> list[str]:
    """What is wrong, one line each: a device offline or never seen, a printer or voice fault."""
    found: list[str] = []
    for entry in inventory:
        report = reports.get(entry.id, DeviceReport(entry.id))
        health = report.health
        if report.status is None:
            found.append(f"{entry.id}: chưa từng kết nối (never connected)")
        elif report.status != "online":
            found.append(f"{entry.id}: {report.status}")
        if health.get("printer_fault"):
            found.append(f"{entry.id}: máy in (printer) {health['printer_fault']}")
        if health.get("unprinted"):
            found.append(f"{entry.id}: {len(health['unprinted'])} phiếu chưa in (unprinted tickets)")
        if entry.role == "display" and health.get("voice") not in (None, "ok", "off"):
            found.append(f"{entry.id}: giọng đọc (voice) {health['voice']}")
        if report.update.get("state") in ("rolled_back", "failed", "held"):
            found.append(f"{entry.id}: bản {report.update.get('target')} không cài được (update "
                         f"{report.update['state']}): {report.update.get('detail', '')}")
    return found


def format_devices(inventory: list[DeviceEntry], reports: dict[str, DeviceReport]) -> str:
    """Every device of the inventory, then any device the broker knows that the inventory lacks."""
    known = {e.id for e in inventory}
    rows = [(e.id, e.role) for e in inventory] + [
        (i, str(r.health.get("role") or r.health.get("kind") or "?")) for i, r in sorted(reports.items())
        if i not in known and i != "hub" and not i.startswith(p.UPDATER_PREFIX)
    ]
    lines = ["Thiết bị · Devices",
             f"{'id':<14}{'vai trò':<10}{'trạng thái':<12}{'báo lần cuối':<27}{'phiên bản':<11}"
             f"{'cập nhật':<16}chi tiết"]
    for device_id, role in rows:
        report = reports.get(device_id, DeviceReport(device_id))
        status = report.status or "chưa thấy"
        at = _text(report.health.get("at") or report.health.get("last_error_at"))
        unknown = "" if device_id in known else "  (không có trong danh mục · not in the inventory)"
        update = _update(report.update)
        lines.append(f"{device_id:<14}{role:<10}{status:<12}{at:<27}{_version(report):<11}{update:<16}"
                     f"{_detail(role, report.health)}{unknown}")
    return "\n".join(lines)
