"""`luot admin`: open or close the day and look at the queue, as the `admin` device;
on a hub, bring back a backup of its database.

    luot admin --config /etc/luot/admin.toml status
    luot admin --config /etc/luot/admin.toml close
    luot admin --config /etc/luot/admin.toml open --until 11:30    # a Sunday duty until 11:30
    luot admin restore /media/usb/luot-2026-11-30-223000.db [--database /var/lib/luot/luot.db] [--force]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from dispatcher.backup import BackupError, restore
from luot import protocol as p
from luot.config import ConfigError, load_device, load_site
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from luot.role import role_parser
from luot.words import minutes_text
from tools.inventory import DeviceReport, DeviceWatch, format_devices, problems

# confirm_clock: after the hub's clock jumped, the technician says the time it shows is right.
ACTIONS = ("status", "open", "close", "confirm_clock")
DEFAULT_SITE = Path("/etc/luot/site.toml")


def format_status(link: HubLink) -> str:
    """The retained state as a table a technician reads at a glance."""
    site: dict[str, Any] = link.state(p.SITE_STATE) or {}
    config: dict[str, Any] = link.state(p.CONFIG) or {}
    lines = [
        f"{config.get('name', '?')}",
        f"Ngày {site.get('day', '?')}: {'mở' if site.get('open') else 'đóng'} (open: {site.get('open')}),"
        f" đang lấy số (taking): {site.get('taking')}",
        f"Đã cấp {site.get('issued', 0)} · đang chờ {site.get('waiting', 0)} ·"
        f" đã phục vụ {site.get('served', 0)} · chờ trung bình {minutes_text(site.get('avg_wait_min'))[0]}",
        "",
        "Quầy  Trạng thái  Số      Lĩnh vực",
    ]
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


def device_status(reports: dict[str, DeviceReport], site_file: Path | None) -> tuple[str, bool]:
    """The devices' table and whether all is well: every device of the site file's inventory
    (the hub's /etc/luot/site.toml when none is named), else every device the broker knows."""
    inventory = []
    if site_file is not None or DEFAULT_SITE.is_file():
        try:
            inventory = list(load_site(site_file or DEFAULT_SITE).devices)
        except ConfigError as e:
            return e.explain("luot admin: the site's inventory: "), False
    wrong = problems(inventory, reports)
    lines = [format_devices(inventory, reports)]
    if wrong:
        lines += ["", "Cần xử lý · To see to:", *(f"  {line}" for line in wrong)]
    return "\n".join(lines), not wrong


def restore_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="luot admin restore",
        description="On the hub, with luot-dispatcher stopped: bring a backup made by `luot backup` "
                    "back as the hub's database. Then start luot-dispatcher; every device gets the "
                    "restored state.")
    parser.add_argument("backup", type=Path, help="a backup file, luot-YYYY-MM-DD-HHMMSS.db")
    parser.add_argument("--database", type=Path, default=Path("/var/lib/luot/luot.db"),
                        help="the hub's database (default: %(default)s)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing database (it is kept beside, renamed)")
    return parser


def restore_main(argv: list[str]) -> int:
    """`luot admin restore`: local to the hub, no broker needed."""
    args = restore_parser().parse_args(argv)
    try:
        print(restore(args.backup, args.database, force=args.force))
    except (BackupError, OSError, sqlite3.Error) as e:
        print(f"luot admin restore: {e}")
        return 1
    print("Start the dispatcher now: systemctl start luot-dispatcher")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["restore"]:
        return restore_main(argv[1:])
    parser = role_parser("luot admin", __doc__, "the admin device's file (role = \"admin\")", raw=True,
                         config=Path("/etc/luot/admin.toml"))
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the hub")
    parser.add_argument("--until", metavar="HH:MM",
                        help="with open: give numbers from now until then, whatever the taking hours say "
                             "(a weekend duty, a campaign day)")
    parser.add_argument("--site", type=Path, default=None,
                        help=f"the site file whose devices `status` lists (default: {DEFAULT_SITE})")
    args = parser.parse_args(argv)
    try:
        device = load_device(args.config)
        device.require_role("admin", "admin")
    except ConfigError as e:
        print(e.explain("luot admin: configuration error: "))
        return 2
    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="admin")
    watch = DeviceWatch(link) if args.action == "status" else None
    link.start()
    try:
        if not link.wait_connected(args.timeout):
            print(f"luot admin: cannot reach the broker at {device.broker.host}:{device.broker.port}")
            return 1
        expected = None
        if args.action != "status":
            fields = {"until": args.until} if args.action == "open" and args.until else {}
            expected = link.request(args.action, timeout=args.timeout, **fields)["site"]
        deadline = time.monotonic() + args.timeout
        while not (link.state(p.CONFIG) and link.state(p.SITE_STATE)) or (
            expected is not None and link.state(p.SITE_STATE) != expected
        ):
            if time.monotonic() > deadline:
                print("luot admin: the hub publishes no state: is the dispatcher running?")
                return 1
            time.sleep(0.05)
        print(format_status(link))
        if args.action != "status":
            return 0
        assert watch is not None
        devices, well = device_status(watch.wait(args.timeout), args.site)
        print()
        print(devices)
        return 0 if well else 1
    except (CommandRefused, HubTimeout, HubUnreachable) as e:
        print(f"luot admin: {args.action} failed: {e}")
        return 1
    finally:
        link.stop()
