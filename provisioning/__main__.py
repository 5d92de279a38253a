"""`luot provision`: bundles, broker files, password rotation, ACL check and SD cards.

  luot provision bundle --site site.toml --out bundles/
  luot provision rotate quay-3 --site site.toml --out bundles/
  luot provision check --site site.toml --out bundles/ [--host H] [--port P]
  luot provision image --site site.toml --out bundles/ --device quay-3 --image 2025-…-lite.img
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from broker_config import load_broker_options, site_roles
from luot.config import ConfigError, load_site
from provisioning.bundle import load_network_options, make_bundles, read_secrets
from provisioning.check import run_check
from provisioning.firstboot import BOOKWORM, TRIXIE, FirstBoot
from provisioning.image import ImageError, write_image

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
    image = command("image", "write a device's bundle and first boot into a Raspberry Pi OS image or SD card")
    image.add_argument("--device", required=True, help="the device id")
    image.add_argument("--image", type=Path, required=True, help="an .img file or an SD card (/dev/sdX)")
    image.add_argument("--style", choices=("auto", BOOKWORM, TRIXIE), default="auto",
                       help="firstrun.sh (bookworm) or cloud-init (trixie); auto looks at the image")
    image.add_argument("--user", default="kythuat", help="the technician's login (default: %(default)s)")
    image.add_argument("--ssh-key", type=Path, help="public key for SSH (default: ~/.ssh/id_*.pub)")
    image.add_argument("--wheel", type=Path, help="install Lượt from this wheel instead of PyPI")
    image.add_argument("--pip-spec", default="luot", help="what pip installs without --wheel (default: luot)")
    return top


def default_ssh_key() -> Path | None:
    return next((p for p in (Path.home() / ".ssh" / k for k in SSH_KEYS) if p.is_file()), None)


def do_image(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    device = site.device(args.device)
    if device is None:
        raise ConfigError(args.site, "devices", f"no device {args.device!r} in the inventory")
    if device.role == "admin":
        print(f"{device.id} is the technician's computer: copy {args.out / device.id} there instead.")
        return 2
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
        device_id=device.id, role=device.role, site=site.id, hostname=device.hostname, user=args.user,
        ssh_key=key, timezone=site.timezone.key, wifi_ssid=network.wifi_ssid,
        wifi_password=network.wifi_password, wifi_country=network.wifi_country,
        wheel=args.wheel.name if args.wheel else "", pip_spec=args.pip_spec,
    )
    style, partition = write_image(args.image, args.out / device.id, fb, style=args.style, wheel=args.wheel)
    print(f"{args.image}: wrote {device.id} ({device.role}, host name {device.hostname}) into boot partition "
          f"{partition.number} at byte {partition.offset}, {style} style "
          f"({'firstrun.sh on cmdline.txt' if style == BOOKWORM else 'cloud-init user-data'}).")
    starts = "the broker and the dispatcher" if device.role == "hub" else f"its {device.role} service"
    print(f"On first boot it sets itself up, installs Lượt and starts {starts}.")
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
            print(f"Copy {args.out / args.device}/password to the device (/etc/luot/password) and "
                  "the hub's broker/passwd to /etc/luot/broker/, then reload Mosquitto.")
            return 0
        if args.command == "check":
            return do_check(args)
        return do_image(args)
    except ConfigError as e:
        print(e.explain("luot provision: configuration error: "))
        return 2
    except ImageError as e:
        print(f"luot provision image: {e}")
        return 2
    except (OSError, TimeoutError, RuntimeError) as e:
        print(f"luot provision {args.command}: {e}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
