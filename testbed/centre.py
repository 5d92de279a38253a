"""A centre on one machine: the pieces `luot demo`, `luot simulate` and the fault drills share.

A private Mosquitto with the generated configuration, a copy of the site file
whose taking hours always allow numbers (a demo at 21:00 must still work),
a device.toml per device with its broker credentials, and the real dispatcher
as its own process (`python -m dispatcher --config hub.toml`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker_config import site_roles, updater_users
from luot import protocol as p
from luot.config import SiteConfig, dump_toml, load_site, read_toml
from luot.mqtt import HubLink
from testbed.broker import Mosquitto
from testbed.supervisor import stop_process

ALL_DAY = [["00:00", "24:00"]]
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


def midday_timezone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is about noon now, so a run of an hour never crosses
    midnight (the dispatcher starts a new business day, with new numbers, at midnight)."""
    hour = (now or datetime.now(UTC)).astimezone(UTC).hour
    offset = max(-11, min(12, 12 - hour))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def write_all_day_site(site_file: Path, dest: Path, *, counters: list[dict[str, Any]] | None = None,
                       timezone: str | None = None) -> Path:
    """A copy of `site_file` whose numbers may be taken at any hour of any day.

    `counters` (as `[[counters]]` tables) replaces the site's counters for a what-if run;
    the inventory then gets a counter device `quay-<n>` for each counter without one.
    """
    data = read_toml(site_file)
    data["hours"] = {**data.get("hours", {}), "taking": ALL_DAY, "working_days": EVERY_DAY}
    if timezone is not None:
        data["site"] = {**data.get("site", {}), "timezone": timezone}
    if counters is not None:
        numbers = {c["number"] for c in counters}
        devices = [d for d in data.get("devices", [])
                   if d.get("role") != "counter" or d.get("counter") in numbers]
        have = {d.get("counter") for d in devices if d.get("role") == "counter"}
        taken = {d.get("id") for d in devices}
        for n in sorted(numbers - have):
            device_id = f"quay-{n}" if f"quay-{n}" not in taken else f"quay-sim-{n}"
            devices.append({"id": device_id, "role": "counter", "counter": n})
        data["counters"] = counters
        data["devices"] = devices
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(
        dump_toml(data, comment=f"A copy of {site_file} for running on one machine: numbers at any hour, "
                  "every day."),
        encoding="utf-8",
    )
    load_site(dest)
    return dest


class LocalCentre:
    """Broker, device files and dispatcher process for one site in one folder."""

    def __init__(self, workdir: Path, site_file: Path, *, counters: list[dict[str, Any]] | None = None,
                 midday: bool = False) -> None:
        """`midday`: run the site in a zone where it is noon now (simulations and drills, whose
        figures must not be cut by the business day changing at midnight)."""
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.site_file = write_all_day_site(
            site_file, workdir / "site.toml", counters=counters,
            timezone=midday_timezone() if midday else None,
        )
        self.site: SiteConfig = load_site(self.site_file)
        # The Pis' updaters too (`updater.<hostname>`), as the hub's real broker files have them.
        self.broker = Mosquitto(workdir / "broker", self.site.id, site_roles(self.site),
                                updaters=updater_users(self.site))
        self.database = workdir / "luot.db"
        self.dispatcher: subprocess.Popen[bytes] | None = None
        hub = next((d.id for d in self.site.devices if d.role == "hub"), None)
        if hub is None:
            raise ValueError(f"{site_file}: the [[devices]] inventory has no device with role hub")
        self.hub_id = hub
        # A laptop's clock is taken as it is: no chrony serves a local centre.
        self.hub_file = self.device_file(
            hub, dump_toml({"hub": {"site_file": str(self.site_file), "database": str(self.database),
                                    "trust_clock": True}})
        )

    def device_file(self, device_id: str, role_table: str = "", *, port: int | None = None) -> Path:
        """`devices/<id>.toml` with the device's broker credentials and its role's table
        (`port`: reach the broker through another port, such as a drill's cuttable proxy)."""
        if self.site.device(device_id) is None:
            raise ValueError(f"{device_id!r} is not in the site's [[devices]] inventory")
        return self.broker.write_device_file(self.workdir / "devices" / f"{device_id}.toml", device_id,
                                             role_table, port=port)

    def device_ids(self, role: str) -> list[str]:
        return [d.id for d in self.site.devices if d.role == role]

    def counter_device(self, number: int) -> str:
        found = next((d.id for d in self.site.devices if d.role == "counter" and d.counter == number), None)
        if found is None:
            raise ValueError(f"the inventory has no counter device for counter {number}")
        return found

    def dispatcher_argv(self) -> list[str]:
        return [sys.executable, "-m", "dispatcher", "--config", str(self.hub_file)]

    # ------------------------------------------------------------------ for simulate and the drills

    def start_broker(self) -> None:
        self.broker.start()

    def start_dispatcher(self) -> subprocess.Popen[bytes]:
        log = (self.workdir / "dispatcher.log").open("ab")
        self.dispatcher = subprocess.Popen(self.dispatcher_argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self.dispatcher

    def stop_dispatcher(self) -> None:
        if self.dispatcher is not None:
            stop_process(self.dispatcher, timeout=5)
        self.dispatcher = None

    def link(self, device_id: str, timeout: float = 10.0) -> HubLink:
        """A started HubLink for `device_id` that has the dispatcher's config and site state."""
        link = HubLink(self.broker.settings(device_id), device_id=device_id, site=self.site.id,
                       purpose="local")
        link.start()
        if not link.wait_connected(timeout):
            link.stop()
            raise RuntimeError(f"{device_id} could not connect to the broker")
        if not wait_until(lambda: link.state(p.CONFIG) and link.state(p.SITE_STATE), timeout):
            link.stop()
            raise RuntimeError(f"{device_id} got no state from the dispatcher within {timeout} s")
        return link

    def stop(self) -> None:
        self.stop_dispatcher()
        self.broker.stop()


def wait_until(probe: Callable[[], Any], timeout: float, step: float = 0.01) -> bool:
    """Poll `probe()` until truthy or `timeout`; the result says which."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
