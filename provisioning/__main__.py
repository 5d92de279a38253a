"""`luot provision`: bundles, broker files, password rotation, ACL check and SD cards.

  luot provision bundle --site site.toml --out bundles/
  luot provision rotate quay-3 --site site.toml --out bundles/
  luot provision check --site site.toml --out bundles/ [--host H] [--port P]
  luot provision image --site site.toml --out bundles/ --repo repo/ --device quay-3 --image 2025-…-lite.img
  luot provision image … --device hub --device kiosk-1 …     (two roles on one Pi)
  luot provision repo --wheel dist/luot-….whl --out repo/     (on a laptop with the internet, once)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from broker_config import load_broker_options, site_roles
from luot.config import ConfigError, DeviceEntry, load_site
from provisioning import repo_build
from provisioning.acl_check import run_check
from provisioning.bundle import load_network_options, make_bundles, read_secrets
from provisioning.firstboot import BOOKWORM, TRIXIE, FirstBoot, PiDevice
from provisioning.image import ImageError, write_image
from provisioning.repository import RepositoryError, open_repository
from provisioning.roles import password_file

DEFAULT_OUT = Path("luot-bundles")
SSH_KEYS = ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="luot provision", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help_, description=help_)
        p.add_argument("--site", type=Path, required=True, help="the centre's site.toml")
        p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                       help="the bundles folder, with the secrets file (default: %(default)s)")
        return p

    command("bundle", "write or update every device's bundle and the hub's broker files")
    rotate = command("rotate", "give one device a new password (its bundle and the hub's passwd)")
    rotate.add_argument("device", help="the device id")
    check = command("check", "connect as each device and report what it can and cannot do")
    check.add_argument("--host", help="the broker (default: [network] hub_host)")
    check.add_argument("--port", type=int, help="the broker's port (default: from [broker])")
    check.add_argument("--timeout", type=float, default=10.0,
                       help="seconds to wait for the broker (default: %(default)s)")
    image = command("image", "write a Pi's bundles and first boot into a Raspberry Pi OS image or SD card")
    image.add_argument("--device", required=True, action="append",
                       help="a device id of this Pi; twice for two roles on one Pi (hub and kiosk)")
    image.add_argument("--repo", type=Path, required=True,
                       help="the centre's offline repository (`luot provision repo`)")
    image.add_argument("--image", type=Path, required=True, help="an .img file or an SD card (/dev/sdX)")
    image.add_argument("--style", choices=("auto", BOOKWORM, TRIXIE), default="auto",
                       help="firstrun.sh (bookworm) or cloud-init (trixie); auto looks at the image")
    image.add_argument("--user", default="kythuat", help="the technician's login (default: %(default)s)")
    image.add_argument("--ssh-key", type=Path, help="public key for SSH (default: ~/.ssh/id_*.pub)")
    repo = commands.add_parser("repo", help="make the centre's offline repository (needs the internet once)",
                               description=repo_build.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    repo.add_argument("--wheel", type=Path, required=True,
                      help="Lượt's wheel (python3 -m pip wheel --no-deps . -w dist/)")
    repo.add_argument("--out", type=Path, default=Path("luot-repo"),
                      help="the repository (default: %(default)s)")
    repo.add_argument("--key-dir", type=Path, default=Path("luot-repo-key"),
                      help="the signing key, made on the first build; keep it (default: %(default)s)")
    repo.add_argument("--suite", action="append", choices=repo_build.SUITES,
                      help="only this Debian suite (default: bookworm and trixie)")
    return top


def do_repo(args: argparse.Namespace) -> int:
    manifest = repo_build.build_repository(args.wheel, args.out, args.key_dir,
                                           tuple(args.suite or repo_build.SUITES))
    debs = {suite: len(found) for suite, found in manifest["debian"].items()}
    print(f"{args.out}: {len(manifest['wheels'])} wheels, Debian packages {debs}, "
          f"{manifest['bytes'] / 1e6:.1f} MB, signed by {manifest['key']['fingerprint']}, "
          f"in {manifest['build_s']} s. Give it to `luot provision image --repo {args.out}`.")
    return 0


def default_ssh_key() -> Path | None:
    return next((p for p in (Path.home() / ".ssh" / k for k in SSH_KEYS) if p.is_file()), None)


def pi_devices(site_file: Path, ids: list[str]) -> list[DeviceEntry]:
    """The inventory entries of one Pi: known, distinct, at most one of each role, no admin."""
    site = load_site(site_file)
    found = []
    for device_id in ids:
        device = site.device(device_id)
        if device is None:
            raise ConfigError(site_file, "devices", f"no device {device_id!r} in the inventory")
        if device.role == "admin":
            raise ConfigError(site_file, "devices", f"{device.id} is the technician's computer: "
                              "copy its bundle there instead")
        same = [d.id for d in found if d.role == device.role]
        if same:
            raise ConfigError(site_file, "devices", f"one Pi runs one {device.role}: "
                              f"{same[0]} and {device.id} cannot share it")
        found.append(device)
    return sorted(found, key=lambda d: d.role != "hub")


def do_image(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    devices = pi_devices(args.site, args.device)
    repo = open_repository(args.repo)
    key_file = args.ssh_key or default_ssh_key()
    if key_file is None:
        print("no SSH public key: give --ssh-key FILE (ssh-keygen -t ed25519 makes one)")
        return 2
    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        print(f"{key_file}: cannot be read: {e.strerror}")
        return 2
    if not key.startswith(("ssh-", "ecdsa-", "sk-")) or "\n" in key:
        print(f"{key_file}: not one OpenSSH public key line")
        return 2
    report = make_bundles(args.site, args.out)
    if report.changed:
        print(report.summary())
    network = load_network_options(site)
    fb = FirstBoot(
        devices=tuple(PiDevice(d.id, d.role) for d in devices), site=site.id, hostname=devices[0].hostname,
        user=args.user, ssh_key=key, timezone=site.timezone.key, hub_host=network.hub_host,
        wheel=repo.wheel, wheel_sha256=repo.wheel_sha256, wifi_ssid=network.wifi_ssid,
        wifi_password=network.wifi_password, wifi_country=network.wifi_country,
        time_servers=network.time_servers,
    )
    style, partition = write_image(args.image, args.out, fb, repo, style=args.style)
    print(f"{args.image}: wrote {fb.name}, host name {fb.hostname}, into boot partition "
          f"{partition.number} at byte {partition.offset}, {style} style "
          f"({'firstrun.sh on cmdline.txt' if style == BOOKWORM else 'cloud-init user-data'}).")
    source = "its own card" if "hub" in fb.roles else f"the hub ({network.hub_host})"
    print(f"On first boot it sets itself up and installs Lượt from {source}; "
          f"install.log on the boot partition says how it went.")
    return 0


def do_check(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    broker = load_broker_options(site)
    port, tls, _ca = broker.device_endpoint()
    host = args.host or load_network_options(site).hub_host
    passwords = read_secrets(args.out)
    roles = site_roles(site)
    missing = sorted(set(roles) - set(passwords))
    if missing:
        print(f"no password for {', '.join(missing)} in {args.out}: run `luot provision bundle` first")
        return 2
    ca = args.out / next(u for u, r in sorted(roles.items()) if r == "hub") / "ca.crt"
    report = run_check(site.id, roles, {u: passwords[u] for u in roles}, host, args.port or port,
                       tls=tls, ca_file=str(ca) if tls else None, timeout=args.timeout)
    print(report.text())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "bundle":
            print(make_bundles(args.site, args.out).summary())
            return 0
        if args.command == "rotate":
            report = make_bundles(args.site, args.out, rotate=(args.device,))
            print(report.summary())
            role = load_site(args.site).device(args.device).role  # type: ignore[union-attr]
            print(f"Copy {args.out / args.device}/password to the device ({password_file(role)}) and "
                  "the hub's broker/passwd to /etc/luot/broker/, then reload Mosquitto.")
            return 0
        if args.command == "check":
            return do_check(args)
        if args.command == "repo":
            return do_repo(args)
        return do_image(args)
    except ConfigError as e:
        print(e.explain("luot provision: configuration error: "))
        return 2
    except (ImageError, RepositoryError) as e:
        print(f"luot provision image: {e}")
        return 2
    except repo_build.BuildError as e:
        print(f"luot provision repo: {e}")
        return 1
    except (OSError, TimeoutError, RuntimeError) as e:
        print(f"luot provision {args.command}: {e}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
