"""`luot admin`: open or close the day and look at the queue, as the `admin` device.

    luot admin --config /etc/luot/admin.toml status
    luot admin --config /etc/luot/admin.toml close

Exits 1 when the dispatcher or any device says `offline` (the state shown may be stale).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from luot import protocol as p
from luot.config import ConfigError, load_device
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable

ACTIONS = ("status", "open", "close")


def format_status(link: HubLink) -> str:
    """The retained state as a table a technician reads at a glance."""
    site: dict[str, Any] = link.state(p.SITE_STATE) or {}
    config: dict[str, Any] = link.state(p.CONFIG) or {}
    lines = [
        f"{config.get('name', '?')}",
        f"Ngày {site.get('day', '?')}: {'mở' if site.get('open') else 'đóng'} (open: {site.get('open')}),"
        f" đang lấy số (taking): {site.get('taking')}",
        f"Đã cấp {site.get('issued', 0)} · đang chờ {site.get('waiting', 0)} ·"
        f" đã phục vụ {site.get('served', 0)} · chờ trung bình {site.get('avg_wait_min')} phút",
        "",
        "Quầy  Trạng thái  Số      Lĩnh vực",
    ]
    statuses = link.device_statuses()
    hub = statuses.get(link.hub_id, "?")
    lines[1:1] = [f"Bộ điều phối (dispatcher): {_status_words(hub)}"]
    offline = sorted(d for d, s in statuses.items()
                     if s != "online" and d not in (link.hub_id, link.device_id))
    if offline:
        lines[2:2] = [f"Thiết bị ngoại tuyến (devices offline): {', '.join(offline)}"]
    counters = link.states(p.COUNTER_STATES)
    for _, state in sorted(counters.items(), key=lambda kv: kv[1]["counter"]):
        ticket = state.get("ticket") or {}
        lines.append(
            f"{state['counter']:>4}  {state['status']:<10}  {ticket.get('number', '-'):<6}  "
            f"{ticket.get('service', '')}"
        )
    lines += ["", "Lĩnh vực  Chờ  Đã cấp  Còn  Ước chờ (phút)"]
    for _, state in sorted(link.states(p.SERVICE_STATES).items()):
        lines.append(
            f"{state['service']:<8}  {state['waiting']:>3}  {state['issued']:>6}  {state['remaining']:>3}"
            f"  {state['est_wait_min'] if state['est_wait_min'] is not None else '-'}"
        )
    return "\n".join(lines)


def _status_words(status: str) -> str:
    if status == "online":
        return "trực tuyến (online)"
    return f"NGOẠI TUYẾN, trạng thái có thể cũ (OFFLINE, the state may be stale): {status}"


def all_online(link: HubLink) -> bool:
    """The dispatcher says online and no device (but this one) has left an `offline` behind."""
    statuses = link.device_statuses()
    return link.hub_online and all(
        s == "online" for d, s in statuses.items() if d != link.device_id
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("/etc/luot/admin.toml"),
                        help="the admin device's file (role = \"admin\")")
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the hub")
    args = parser.parse_args(argv)
    try:
        device = load_device(args.config)
        device.require_role("admin", "admin")
    except ConfigError as e:
        print(f"luot admin: configuration error: {e}")
        return 2
    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="admin")
    link.start()
    try:
        if not link.wait_connected(args.timeout):
            print(f"luot admin: cannot reach the broker at {device.broker.host}:{device.broker.port}")
            return 1
        expected = None
        if args.action != "status":
            expected = link.request(args.action, timeout=args.timeout)["site"]
        deadline = time.monotonic() + args.timeout
        while not (link.state(p.CONFIG) and link.state(p.SITE_STATE)
                   and link.hub_id in link.device_statuses()) or (
            expected is not None and link.state(p.SITE_STATE) != expected
        ):
            if time.monotonic() > deadline:
                print("luot admin: the hub publishes no state: is the dispatcher running?")
                return 1
            time.sleep(0.05)
        print(format_status(link))
        return 0 if all_online(link) else 1
    except (CommandRefused, HubTimeout, HubUnreachable) as e:
        print(f"luot admin: {args.action} failed: {e}")
        return 1
    finally:
        link.stop()
