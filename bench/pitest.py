"""`make pi-test`: a centre of emulated Pis installs itself from the offline repository with
the network cut, then takes and calls a ticket.

Online, once (cached in --work): Lượt's wheel, the centre's repository (`luot provision
repo`), an arm64 root filesystem per Debian suite (mmdebstrap). Then, in a new network
namespace with nothing but loopback (`unshare -n`), per suite: a hub, a kiosk, a display
and a counter each get the boot partition `luot provision image` writes and run its own
install.sh as first boot does (the hub from its card, the others from the hub's lighttpd),
then run their roles (dummy video, mock pins, a file for a printer). A ticket is taken and
called through the emulated hub. Prints install times, the repository's size and each
role's memory under qemu, beside a bare python3 under the same emulation, as JSON.

    python -m bench.pitest [--quick] [--suite bookworm] [--work artifacts/pi-test]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import emit
from bench.pi_fleet import build_releases, fleet_works, prepare_pi, releases_in
from bench.pi_roots import Pi, PiTestError, check_host, cut_network, rootfs_tarball
from bench.retained import DeviceWatch
from fleet.units import ROLE_UNITS
from luot import EXAMPLE_SITE
from luot.config import BrokerSettings, load_site
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from luot.protocol import Topics
from provisioning.bundle import make_bundles, read_secrets
from provisioning.firstboot import FirstBoot, PiDevice
from provisioning.image import stage_luot_folder
from provisioning.repo_build import SUITES, build_repository
from provisioning.repository import open_repository
from testbed.centre import wait_until

ROOT = Path(__file__).resolve().parent.parent
PIS = {"hub": "hub", "kiosk": "kiosk-1", "display": "tv-sanh", "counter": "quay-1"}
ROLE_ENV = {
    "kiosk": {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    "display": {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    "counter": {"GPIOZERO_PIN_FACTORY": "mock"},
}
INSTALL_TIMEOUT_S = 1800
SETTLE_S = 15


def prepare(work: Path, suites: tuple[str, ...]) -> dict[str, Any]:
    """The online part: wheel, repository, root filesystems, bundles."""
    figures: dict[str, Any] = {}
    dist = work / "dist"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True)
    wheel = max(dist.glob("luot-*.whl"), key=lambda p: p.stat().st_mtime)
    manifest = build_repository(wheel, work / "repo", work / "repo-key", suites)
    build_releases(work)
    figures["repo_build_s"] = round(time.monotonic() - started, 1)
    figures["repo_mb"] = round(manifest["bytes"] / 1e6, 1)
    figures["repo_wheels"] = len(manifest["wheels"])
    figures["repo_debs"] = {s: len(p) for s, p in manifest["debian"].items()}
    for suite in suites:
        _, seconds = rootfs_tarball(suite, work)
        figures[f"rootfs_{suite}_build_s"] = round(seconds, 1)
    site_file = work / "site.toml"
    # The example centre, open whenever the test runs.
    site = EXAMPLE_SITE.read_text(encoding="utf-8")
    site = site.replace('taking = [["07:30", "11:30"], ["13:30", "16:30"]]', 'taking = [["00:00", "24:00"]]')
    site = site.replace("working_days = [1, 2, 3, 4, 5, 6]", "working_days = [1, 2, 3, 4, 5, 6, 7]")
    site_file.write_text(site)
    make_bundles(site_file, work / "bundles")
    kiosk = work / "bundles" / PIS["kiosk"] / "device.toml"
    text = kiosk.read_text()
    kiosk.write_text(text.replace('printer = "usb://04b8:0e15"', 'printer = "file:///tmp/luot-ticket.bin"'))
    return figures


def stage(pi: Pi, role: str, work: Path) -> None:
    site = load_site(work / "site.toml")
    device = site.device(PIS[role])
    assert device is not None
    repo = open_repository(work / "repo")
    fb = FirstBoot(devices=(PiDevice(device.id, role),), site=site.id, hostname=device.hostname,
                   user="kythuat", ssh_key="ssh-ed25519 AAAA pi-test", timezone=site.timezone.key,
                   hub_host="luot-hub.local", wheel=repo.wheel, wheel_sha256=repo.wheel_sha256)
    stage_luot_folder(pi.boot, work / "bundles", fb, repo)


def install(pi: Pi) -> float:
    code, output, seconds = pi.run(["/bin/bash", "/boot/firmware/luot/install.sh"], INSTALL_TIMEOUT_S)
    if code != 0:
        raise PiTestError(f"{pi.name}: install.sh failed (exit {code}):\n{output[-2500:]}")
    return round(seconds, 1)


def start_hub(pi: Pi) -> None:
    for folder, owner in (("var/lib/luot-mosquitto", "mosquitto"), ("var/lib/luot", "luot")):
        (pi.root / folder).mkdir(parents=True, exist_ok=True)
        subprocess.run(["chroot", str(pi.root), "chown", f"{owner}:{owner}", f"/{folder}"], check=True)
    pi.start("mosquitto", ["/usr/sbin/mosquitto", "-c", "/etc/luot/broker/mosquitto.conf"])
    pi.start_unit(ROLE_UNITS["hub"])
    pi.start_unit("luot-updater")


def broker_settings(work: Path, device: str) -> BrokerSettings:
    """How the harness reaches the emulated hub's broker as `device`."""
    return BrokerSettings(host="127.0.0.1", port=1883, username=device,
                          password=read_secrets(work / "bundles")[device])


def centre_works(work: Path, site_id: str) -> dict[str, Any]:
    """Every role online; a ticket taken (as the kiosk) and called (as another counter)."""
    def settings(device: str) -> BrokerSettings:
        return broker_settings(work, device)

    def link(device: str) -> HubLink:
        hub_link = HubLink(settings(device), device_id=device, site=site_id, purpose="pitest")
        hub_link.start()
        if not hub_link.wait_connected(120):
            raise PiTestError(f"{device} cannot reach the emulated hub's broker")
        return hub_link

    # Every device's retained status, as the admin (who may read device/…) sees it.
    with DeviceWatch(settings("admin"), Topics(site_id).device_status("+"), bytes, "pitest") as watch:
        seen = watch.latest
        started = time.monotonic()
        # Before any link of ours connects: a HubLink announces its own device online.
        if not wait_until(lambda: all(seen.get(d) == b"online" for d in PIS.values()), timeout=300):
            raise PiTestError(f"not every device came online: {seen}")
        online_s = round(time.monotonic() - started, 1)
    # Devices the emulated Pis are not (a client id is its user: a second kiosk-1 would push the
    # emulated one off): the admin takes the number, another counter calls it.
    admin, counter = link("admin"), link("quay-2")
    try:
        if not wait_until(lambda: admin.state("config"), timeout=120):
            raise PiTestError("the emulated dispatcher publishes no config")
        # No time server on this LAN: the leader's morning step, as on a real hub.
        admin.request("confirm_clock", timeout=30)
        service = admin.state("config")["services"][0]["code"]
        ticket = admin.request("take", service=service, timeout=30)["ticket"]
        called = counter.request("next", counter=2, timeout=30).get("ticket") or {}
        return {"online": sorted(seen), "online_wait_s": online_s, "ticket": ticket["number"],
                "called": called.get("number")}
    finally:
        for hub_link in (admin, counter):
            hub_link.stop()


def offline(work: Path, suites: tuple[str, ...]) -> dict[str, Any]:
    """Inside the cut network: install and run the emulated centre of each suite."""
    cut_network()
    site_id = load_site(work / "site.toml").id
    figures: dict[str, Any] = {}
    for suite in suites:
        tarball = work / f"rootfs-{suite}-arm64.tar"
        pis = {role: Pi.unpack(f"{suite}-{role}", tarball, work / "roots") for role in PIS}
        result: dict[str, Any] = {}
        try:
            for role, pi in pis.items():
                stage(pi, role, work)
                pi.mount()
            _, _, bare_s = pis["hub"].run(["python3", "-c", "pass"], 120)
            result["baseline_python3_start_s"] = round(bare_s, 2)
            result["install_s"] = {"hub": install(pis["hub"])}
            prepare_pi(pis["hub"], None)
            pis["hub"].start("repo", ["/usr/sbin/lighttpd", "-D", "-f", "/etc/luot/repo-lighttpd.conf"])
            start_hub(pis["hub"])
            for role in ("counter", "display", "kiosk"):
                result["install_s"][role] = install(pis[role])
                prepare_pi(pis[role], ROLE_ENV.get(role))
                pis[role].start_unit(ROLE_UNITS[role])
                pis[role].start_unit("luot-updater")
            result |= centre_works(work, site_id)
            # Watched as the web service (which reads device/#), so the admin stays free to publish.
            result["fleet"] = fleet_works(pis, PIS, work, broker_settings(work, "web"), site_id,
                                          releases_in(work), ROLE_UNITS)
            bare = pis["hub"].start("bare-python3", ["python3", "-c", "import time; time.sleep(60)"])
            time.sleep(SETTLE_S)  # memory once every role has settled
            result["rss_mb"] = {role: pi.memory_mb() for role, pi in pis.items()}
            result["baseline_python3_rss_mb"] = result["rss_mb"]["hub"].pop("bare-python3", None)
            bare.kill()
        except (PiTestError, subprocess.TimeoutExpired, CommandRefused, HubTimeout, HubUnreachable) as e:
            result["error"] = str(e)
            result["logs"] = {f"{pi.name}/{label}": pi.log(label)[-600:] for role, pi in pis.items()
                              for label in (*pi.processes, f"{ROLE_UNITS[role]}.service",
                                            "luot-updater.service")}
        finally:
            for pi in pis.values():
                pi.stop()
                pi.unmount()
        figures[suite] = result
        # Kept if a later suite fails.
        (work / f"result-{suite}.json").write_text(json.dumps(result, indent=1))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Bookworm only")
    parser.add_argument("--suite", action="append", choices=SUITES)
    parser.add_argument("--work", type=Path, default=ROOT / "artifacts" / "pi-test")
    parser.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    suites = tuple(args.suite or (("bookworm",) if args.quick else SUITES))
    work = args.work.resolve()
    if args.offline:
        print(json.dumps(offline(work, suites)))
        return 0
    try:
        check_host()
        work.mkdir(parents=True, exist_ok=True)
        figures = prepare(work, suites)
    except PiTestError as e:
        print(f"pi-test: {e}")
        return 1
    suite_args = [a for s in suites for a in ("--suite", s)]
    done = subprocess.run(["unshare", "--net", "--mount", sys.executable, "-m", "bench.pitest", "--offline",
                           "--work", str(work), *suite_args], capture_output=True, text=True, cwd=ROOT)
    try:
        figures |= json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"pi-test: the offline part failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return 1
    ok = all("error" not in figures[s] and figures[s].get("called") for s in suites)
    emit({"ok": ok, **figures})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
