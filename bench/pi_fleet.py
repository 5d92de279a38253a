"""`make pi-test`'s fleet part: a release published on the emulated hub reaches every emulated
Pi, each updates at its quiet moment and says healthy; then a broken release (every role's
`luot` exits at start) is rolled back by each Pi's updater by itself."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.pi_roots import Pi, PiTestError
from bench.retained import DeviceWatch
from fleet.release import HEALTHY, ROLLED_BACK, Release, UpdateState, parse_update_state
from luot import protocol as p
from luot.config import BrokerSettings
from provisioning.repository import sha256_of
from testbed.centre import wait_until
from testbed.releases import build_release

GOOD, BROKEN = "0.1.1", "0.1.2"
# qemu runs an arm64 Python about ten times slower than a Pi 4: a role gets this long to come up.
READY_TIMEOUT_S = 420
UPDATE_TIMEOUT_S = 2400


def build_releases(work: Path) -> dict[str, Release]:
    """Online, once: the good release and the broken one, wheels of this tree."""
    out = work / "releases"
    shutil.rmtree(out, ignore_errors=True)
    return {GOOD: build_release(GOOD, out),
            BROKEN: build_release(BROKEN, out, broken="luot/cli.py", why="a release that cannot start")}


def releases_in(work: Path) -> dict[str, Release]:
    """The releases `build_releases` made, read back in the offline part."""
    wheels = work / "releases" / "wheels"
    return {v: Release(v, f"luot-{v}-py3-none-any.whl", sha256_of(wheels / f"luot-{v}-py3-none-any.whl"))
            for v in (GOOD, BROKEN)}


def prepare_pi(pi: Pi, env: dict[str, str] | None) -> None:
    """After install.sh: systemd's part for the luot units, and the bound for slow emulation."""
    pi.emulate_systemd(env)
    updater = pi.root / "etc/luot/updater.toml"
    updater.write_text(updater.read_text() + f"ready_timeout_s = {READY_TIMEOUT_S}\n")


def all_at(states: dict[str, UpdateState | None], devices: list[str], state: str, version: str,
           target: str) -> bool:
    """Whether every one of `devices` says it is in `state` on `version`, updating to `target`."""
    wanted = (state, version, target)
    return all((s := states.get(d)) is not None and (s.state, s.version, s.target) == wanted
               for d in devices)


def publish(hub: Pi, work: Path, release: Release, canaries: dict[str, str]) -> None:
    """`luot fleet publish` on the hub, as the technician runs it there."""
    shutil.copy(work / "releases" / "wheels" / release.wheel, hub.root / "tmp" / release.wheel)
    flags = [a for role, device in sorted(canaries.items()) for a in ("--canary", f"{role}={device}")]
    code, output, _ = hub.run(["/opt/luot/venv/bin/luot", "fleet", "publish", f"/tmp/{release.wheel}",
                               "--config", "/etc/luot/admin.toml", *flags], 600)
    if code != 0:
        raise PiTestError(f"luot fleet publish {release.version} failed: {output[-800:]}")


def install_admin(hub: Pi, work: Path) -> None:
    """The admin device's file on the hub, for `luot fleet publish`."""
    bundle = work / "bundles" / "admin"
    shutil.copy(bundle / "password", hub.root / "etc/luot/admin.password")
    shutil.copy(bundle / "device.toml", hub.root / "etc/luot/admin.toml")


def ready_versions(pis: dict[str, Pi], units: dict[str, str]) -> dict[str, str | None]:
    found = {}
    for role, pi in pis.items():
        try:
            found[role] = json.loads((pi.root / "run" / units[role] / "ready").read_text())["version"]
        except (OSError, ValueError, KeyError):
            found[role] = None
    return found


def fleet_works(pis: dict[str, Pi], devices: dict[str, str], work: Path, watcher: BrokerSettings,
                site_id: str, releases: dict[str, Release], units: dict[str, str]) -> dict[str, Any]:
    """The good release everywhere, then the broken one rolled back everywhere."""
    hub = pis["hub"]
    install_admin(hub, work)
    ids = list(devices.values())
    canaries = {role: device for role, device in devices.items() if role != "hub"}
    figures: dict[str, Any] = {}
    with DeviceWatch(watcher, p.Topics(site_id).device_update("+"), parse_update_state,
                     "pitest-fleet") as watch:
        states = watch.latest

        def roll_out(target: str, state: str, failure: str) -> float:
            """Publish `target`, then wait until every Pi says `state` on GOOD: the seconds it took."""
            started = time.monotonic()
            publish(hub, work, releases[target], canaries)
            if not wait_until(lambda: all_at(states, ids, state, GOOD, target), timeout=UPDATE_TIMEOUT_S,
                              step=1.0):
                raise PiTestError(f"{failure}: {states}")
            return round(time.monotonic() - started, 1)

        figures["update_s"] = roll_out(GOOD, HEALTHY, f"not every Pi is healthy on {GOOD}")
        figures["ready_after_update"] = ready_versions(pis, units)
        figures["rollback_s"] = roll_out(BROKEN, ROLLED_BACK, f"not every Pi rolled {BROKEN} back")
        figures["ready_after_rollback"] = ready_versions(pis, units)
        figures["rollback_detail"] = {d: states[d].detail for d in ids}
    if {*figures["ready_after_update"].values(), *figures["ready_after_rollback"].values()} != {GOOD}:
        raise PiTestError(f"a role is not running {GOOD}: {figures}")
    return figures
