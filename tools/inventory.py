"""The devices of a centre as the technician needs to see them: every device of the site's
inventory, online or not, when it last reported, its software, its printer or voice.

Read from the broker's retained `device/<id>/status` and `device/<id>/health`. To know
that every retained message has come, the reader subscribes, then publishes a probe on
its own device topic and waits for it: the broker sends the retained messages of a
subscription before anything published after it.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from luot import protocol as p
from luot.config import BrokerSettings, DeviceEntry
from luot.mqtt import make_paho_client, unique_client_id
from luot.protocol import Topics

DASH = "—"


@dataclass
class DeviceReport:
    """What the broker holds of one device."""

    id: str
    status: str | None = None  # online / offline; None: never connected
    health: dict[str, Any] = field(default_factory=dict)


def read_devices(broker: BrokerSettings, site: str, device_id: str,
                 timeout: float) -> dict[str, DeviceReport]:
    """The retained status and health of every device of `site`, by id."""
    topics = Topics(site)
    prefix = f"{topics.root}{p.DEVICE}"
    probe = f"{prefix}{device_id}/probe"
    token = uuid.uuid4().hex.encode()
    reports: dict[str, DeviceReport] = {}
    done = threading.Event()

    def on_connect(client: Any, _u: Any, _f: Any, reason: Any, _props: Any) -> None:
        if not reason.is_failure:
            client.subscribe(f"{prefix}#", qos=1)

    def on_subscribe(client: Any, *_: Any) -> None:
        client.publish(probe, token, qos=1)

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if msg.topic == probe and msg.payload == token:
            done.set()
            return
        rest = msg.topic[len(prefix):].split("/")
        if len(rest) != 2 or not msg.retain:
            return
        report = reports.setdefault(rest[0], DeviceReport(rest[0]))
        if rest[1] == "status":
            report.status = msg.payload.decode("utf-8", "replace") or None
        elif rest[1] == "health":
            try:
                health = json.loads(msg.payload)
            except ValueError:
                health = {}
            report.health = health if isinstance(health, dict) else {}

    client = make_paho_client(broker, unique_client_id(device_id, "inventory"))
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect_async(broker.host, broker.port, keepalive=broker.keepalive)
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return reports


def _text(value: Any) -> str:
    return DASH if value is None or value == "" else str(value)


def _version(health: dict[str, Any]) -> str:
    versions = health.get("versions")
    if isinstance(versions, dict) and versions.get("luot"):
        return str(versions["luot"])
    return _text(health.get("version"))


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
    return found


def format_devices(inventory: list[DeviceEntry], reports: dict[str, DeviceReport]) -> str:
    """Every device of the inventory, then any device the broker knows that the inventory lacks."""
    known = {e.id for e in inventory}
    rows = [(e.id, e.role) for e in inventory] + [
        (i, str(r.health.get("role") or r.health.get("kind") or "?")) for i, r in sorted(reports.items())
        if i not in known and i != "hub"
    ]
    lines = ["Thiết bị · Devices",
             f"{'id':<14}{'vai trò':<10}{'trạng thái':<12}{'báo lần cuối':<27}{'phiên bản':<11}chi tiết"]
    for device_id, role in rows:
        report = reports.get(device_id, DeviceReport(device_id))
        status = report.status or "chưa thấy"
        at = _text(report.health.get("at") or report.health.get("last_error_at"))
        unknown = "" if device_id in known else "  (không có trong danh mục · not in the inventory)"
        lines.append(f"{device_id:<14}{role:<10}{status:<12}{at:<27}{_version(report.health):<11}"
                     f"{_detail(role, report.health)}{unknown}")
    return "\n".join(lines)
