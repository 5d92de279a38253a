"""`luot check-site SITE.toml [DEVICE.toml …]`: validate the files before a device starts.

Prints a short summary of what the files say, or every mistake with its file and key:
those of each file, then those of the files together (a field no counter serves,
overlapping taking periods, a display showing a counter the site does not have).
Each device file is checked against the site's inventory (id, role, counter) and
by its role's own loader, the same code the device runs at start.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from broker_config import describe, load_broker_options
from luot.config import ConfigError, DeviceConfig, SiteConfig, load_device, load_site
from luot.config.site_model import WEEKDAY_KEYS
from provisioning.bundle import hub_device, load_network_options

# The loader each role runs on its `[<role>]` table at start: (module, function).
ROLE_LOADERS: dict[str, tuple[str, str]] = {
    "hub": ("dispatcher.__main__", "hub_paths"),
    "kiosk": ("kiosk.settings", "load_kiosk_settings"),
    "display": ("display.__main__", "display_settings"),
    "counter": ("counter_button.settings", "read_settings"),
}


def role_loader(role: str) -> Callable[[DeviceConfig], Any] | None:
    if role not in ROLE_LOADERS:
        return None
    module, function = ROLE_LOADERS[role]
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return None


def site_summary(site: SiteConfig) -> list[str]:
    broker = describe(load_broker_options(site))
    network = load_network_options(site)
    hub_device(site)
    roles = Counter(d.role for d in site.devices)
    hours = site.catalogue()["hours"]
    periods = ", ".join(f"{a}–{b}" for a, b in hours["periods"]) + "".join(
        f"; {WEEKDAY_KEYS[int(day) - 1]} {', '.join(f'{a}–{b}' for a, b in spans)}"
        for day, spans in hours["days"].items())
    return [
        f"✓ {site.file}: {site.name} ({site.id})",
        f"  dịch vụ / services: {len(site.services)} — "
        + ", ".join(f"{s.code} ({s.number(1)}…)" for s in site.services),
        f"  quầy / counters: {len(site.counters)}; giờ lấy số / taking hours: {periods}",
        "  thiết bị / devices: " + ", ".join(f"{n} {role}" for role, n in sorted(roles.items())),
        f"  broker: {broker['listener']}"
        + (f", TLS {broker['tls']}" if broker["tls"] else "")
        + (f", bridge → {broker['bridge']}" if broker["bridge"] else "")
        + f"; devices reach it at {network.hub_host}"
        + (f", Wi-Fi {network.wifi_ssid!r}" if network.wifi_ssid else ", Ethernet"),
    ]


def site_mistakes(site: SiteConfig) -> list[ConfigError]:
    """What the site file says well but the centre cannot work with: a field no counter
    serves (its citizens would wait for ever), taking periods that overlap."""
    found = [ConfigError(site.file, "services", f"{s.code} ({s.name}): no counter serves it")
             for s in site.services if not any(s.code in c.services for c in site.counters)]
    days = dict(site.hours.by_weekday)
    for key, periods in [("hours.taking", site.hours.periods),
                         *((f"hours.days.{WEEKDAY_KEYS[day - 1]}", days[day]) for day in sorted(days))]:
        for (a, b), (c, d) in itertools.pairwise(sorted(periods)):
            if c < b:
                overlap = f"{a:%H:%M}–{b:%H:%M} and {c:%H:%M}–{d:%H:%M} overlap"
                found.append(ConfigError(site.file, key, overlap))
    return found


def display_mistakes(site: SiteConfig, device: DeviceConfig, settings: Any) -> list[ConfigError]:
    """A display told to show a counter or a field the site does not have would show nothing there."""
    counters = {c.number for c in site.counters}
    services = {s.code for s in site.services}
    found = [device.error("display.counters", f"{site.file} has no counter {n}")
             for n in sorted(getattr(settings, "counters", None) or ()) if n not in counters]
    found += [device.error("display.services", f"{site.file} has no service {code!r}")
              for code in sorted(getattr(settings, "services", None) or ()) if code not in services]
    found += [device.error("display.led.rows", f"{site.file} has no counter {row.counter}")
              for row in getattr(settings, "rows", ()) if row.counter not in (None, *counters)]
    return found


def device_summary(site: SiteConfig, device: DeviceConfig) -> str:
    entry = site.device(device.id)
    if entry is None:
        raise device.error("id", f"{device.id!r} is not in the inventory of {site.file}")
    if entry.role != device.role:
        raise device.error("role", f"is {device.role!r} but {site.file} lists {device.id} as a {entry.role}")
    if device.site != site.id:
        raise device.error("site", f"is {device.site!r} but {site.file} is {site.id!r}")
    loader = role_loader(device.role)
    if loader is not None:
        settings = loader(device)
        mistakes = display_mistakes(site, device, settings) if device.role == "display" else []
        if mistakes:
            raise ConfigError.of(mistakes)
        if device.role == "counter":
            number = device.role_settings.get("number")
            if number != entry.counter:
                raise device.error("counter.number",
                                   f"is {number} but {site.file} gives {device.id} counter {entry.counter}")
    checked = "[" + device.role + "] checked" if loader else "no [" + device.role + "] table to check"
    return (f"✓ {device.file}: {device.id} ({device.role}) → {device.broker.host}:{device.broker.port}"
            f"{' TLS' if device.broker.tls else ''}; {checked}")


def name_items(text: str, site_file: Path) -> str:
    """`counters[9]` also as the counter a technician knows, "counters[9] (quầy 10)", and
    `services[2]`, `devices[4]` by their code and id, read from the site file as written."""
    try:
        raw = tomllib.loads(site_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return text
    names = {"counters": ("number", "quầy "), "services": ("code", ""), "devices": ("id", "")}

    def named(match: re.Match[str]) -> str:
        table, index = match[1], int(match[2])
        key, word = names[table]
        items = raw.get(table)
        item = items[index] if isinstance(items, list) and index < len(items) else None
        value = item.get(key) if isinstance(item, dict) else None
        return f"{match[0]} ({word}{value})" if isinstance(value, int | str) else match[0]

    return re.sub(r"(?<![.\w])(counters|services|devices)\[(\d+)\]", named, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot check-site", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path, help="the centre's site.toml")
    parser.add_argument("devices", type=Path, nargs="*", help="device.toml files to check against it")
    args = parser.parse_args(argv)
    try:
        site = load_site(args.site)
        mistakes = site_mistakes(site)
        if mistakes:
            raise ConfigError.of(mistakes)
        lines = site_summary(site)
        for path in args.devices:
            lines.append(device_summary(site, load_device(path)))
    except ConfigError as e:
        print(name_items(e.explain("✗ LỖI / error: "), args.site))
        return 2
    print("\n".join(lines))
    print("Hợp lệ / valid.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
