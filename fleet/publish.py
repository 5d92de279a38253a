"""`luot fleet publish`: put a new release on the hub, for every Pi of the centre to take.

    luot fleet publish luot-0.2.0-py3-none-any.whl [--wheels DIR] [--canary kiosk=kiosk-2]

On the hub, as the technician (root, for the repository). The wheel (and any new
dependency wheels from --wheels, made by `luot provision repo` on a laptop) go into the
centre's repository; a wheel already there under the same name must be the same file.
Then the retained `fleet/release` names the wheel, its SHA-256 and one canary per role:
by default the first device of each role in site.toml. Publishing an older wheel is how
a technician takes the whole centre back.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import datetime
from pathlib import Path

from fleet.release import VERSION, Release, wheel_name_ok
from luot import protocol as p
from luot.config import ConfigError, SiteConfig, load_device, load_site
from luot.mqtt import make_paho_client
from luot.update_hooks import write_atomically
from provisioning.repository import MANIFEST, sha256_of, write_wheel_index
from provisioning.roles import ETC, REPO_DIR


class PublishError(Exception):
    """The release cannot be published; nothing was announced."""


def default_canaries(site: SiteConfig) -> dict[str, str]:
    canaries: dict[str, str] = {}
    for d in site.devices:
        if d.role != "admin":
            canaries.setdefault(d.role, d.id)
    return canaries


def add_to_repository(repo: Path, wheels: list[Path]) -> None:
    """Copy the wheels in (never replacing a different file of the same name), index them."""
    folder = repo / "wheels"
    if not folder.is_dir():
        raise PublishError(f"{folder}: not the centre's repository (made by luot provision repo)")
    for wheel in wheels:
        target = folder / wheel.name
        if target.exists():
            if sha256_of(target) != sha256_of(wheel):
                raise PublishError(f"{target} exists and differs from {wheel}: a version is published once")
            continue
        shutil.copy2(wheel, target.with_suffix(".part"))
        target.with_suffix(".part").rename(target)
    write_wheel_index(folder)


def record_in_manifest(repo: Path, release: Release) -> None:
    """First boot of a card made from now on installs this release too."""
    path = repo / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    manifest["luot"] = {"wheel": release.wheel, "sha256": release.sha256, "version": release.version}
    wheels = sorted((repo / "wheels").glob("*.whl"))
    manifest["wheels"] = [{"file": w.name, "sha256": sha256_of(w)} for w in wheels]
    write_atomically(path, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def make_release(wheel: Path, canaries: dict[str, str]) -> Release:
    parts = wheel.name.split("-")
    version = parts[1] if len(parts) == 5 else ""
    if not wheel.is_file() or not VERSION.match(version) or not wheel_name_ok(wheel.name, version):
        raise PublishError(f"{wheel}: not Lượt's wheel (luot-<version>-py3-none-any.whl)")
    published = datetime.now().astimezone().isoformat(timespec="seconds")
    return Release(version, wheel.name, sha256_of(wheel), published, canaries)


def announce(release: Release, config: Path, timeout: float = 10.0) -> None:
    """The retained release, as the admin device (the only user that may write it)."""
    device = load_device(config)
    client = make_paho_client(device.broker, device.broker.username)
    client.connect(device.broker.host, device.broker.port)
    client.loop_start()
    try:
        topic = p.Topics(device.site).fleet_release
        info = client.publish(topic, p.encode(release.to_json()), qos=1, retain=True)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise PublishError(f"the broker did not take the release within {timeout:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="luot fleet", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="put a release on the hub for every Pi")
    pub.add_argument("wheel", type=Path)
    pub.add_argument("--wheels", type=Path, help="a folder of dependency wheels the release needs")
    pub.add_argument("--repo", type=Path, default=REPO_DIR)
    pub.add_argument("--site", type=Path, default=ETC / "site.toml")
    pub.add_argument("--config", type=Path, default=ETC / "admin.toml", help="the admin device's file")
    pub.add_argument("--canary", action="append", default=[], metavar="ROLE=DEVICE",
                     help="the device of ROLE that updates first (default: the first in site.toml)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        site = load_site(args.site)
        canaries = default_canaries(site)
        for item in args.canary:
            role, _, device = item.partition("=")
            entry = site.device(device)
            if entry is None or entry.role != role:
                raise PublishError(f"--canary {item}: no device {device!r} of role {role!r} in {args.site}")
            canaries[role] = device
        release = make_release(args.wheel, canaries)
        extra = sorted(args.wheels.glob("*.whl")) if args.wheels else []
        add_to_repository(args.repo, [args.wheel, *extra])
        record_in_manifest(args.repo, release)
        announce(release, args.config)
    except ConfigError as e:
        print(e.explain("luot fleet: "), file=sys.stderr)
        return 2
    except (PublishError, OSError) as e:
        print(f"luot fleet: {e}", file=sys.stderr)
        return 1
    print(f"published {release.version} ({release.sha256[:12]}…); first: "
          + ", ".join(f"{role} {device}" for role, device in sorted(canaries.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
