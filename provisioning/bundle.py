"""Per-device bundles and the hub's broker files, from the inventory in site.toml.

The output folder keeps every device's clear password in `secrets` (mode 0600),
so running again after a change to the inventory keeps existing passwords and
rewrites only the files whose content changes.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe

from broker_config import (
    HUB_BROKER_DIR,
    HUB_BROKER_USER,
    BrokerOptions,
    load_broker_options,
    new_password,
    site_roles,
    updater_users,
    write_broker_files,
    write_if_changed,
)
from broker_config.passwords import check_password_line, parse_password_file
from luot.config import ConfigError, DeviceEntry, SiteConfig, device_file, dump_toml, load_site
from luot.protocol import UPDATER_PREFIX
from provisioning.roles import ETC, UPDATER_PASSWORD, password_file
from provisioning.timesync import lan_time_server
from web.users import hash_line

SECRETS_FILE = "secrets"
DEVICE_CA_FILE = ETC / "ca.crt"
HUB_SITE_FILE = ETC / "site.toml"
HUB_DATABASE = Path("/var/lib/luot/luot.db")

KIOSK_TABLE = """\
[kiosk]
printer = "usb://04b8:0e15"     # Epson TM-T20II on USB; or serial:///dev/ttyUSB0?baudrate=19200,
                                # tcp://10.0.0.9:9100, file:///dev/usb/lp0
profile = "TM-T20II"            # python-escpos profile: its paper width sizes the ticket
return_after_s = 8.0            # back to the start screen after showing a number
# scanner = "/dev/ttyACM0"      # a CCCD QR scanner in serial mode (needs citizen_secret)
# citizen_secret = "…"          # the same on every kiosk of the site, 16 characters or more
"""

HUB_BACKUP_TABLES = """
[hub.backup]                    # luot-backup.timer, every night at 22:30
folder = "/var/lib/luot/backups" # or a USB stick mounted at /media/luot-backup
keep_days = 14

[hub.retention]                 # Decree 13/2023: kept only as long as each purpose needs
citizen_days = 1                # ID-card hashes: only for the day's "one number per field"
ticket_months = 12              # ticket rows: the centre's reports and complaints about a day
command_days = 30               # stored replies that make commands idempotent
"""

COUNTER_PINS = """\
[counter.pins]                  # BCM GPIO numbers of the officer's buttons and the status light
next = 17
recall = 27
noshow = 22
transfer = 23
pause = 24
led = 25
# buzzer = 12
# [counter.rating]              # satisfaction buttons, best first: 5 (or 3) of them
# pins = [5, 6, 13, 19, 26]
"""


UPDATER_COMMENT = "Lượt: this Pi's updater (luot-updater.service) logs in to the broker as this user."
WEB_PORT = 8080
WEB_USERS_FILE = ETC / "web-users"


@dataclass(frozen=True)
class SiteSecrets:
    """What the bundles share that only the technician sees: device passwords, the web
    logins handed to the leader and the officers, the key of the tickets' page links."""

    passwords: dict[str, str]
    logins: dict[str, str]
    ticket_key: str


def web_url(network: NetworkOptions) -> str:
    return f"http://{network.hub_host}:{WEB_PORT}"


def role_table(device: DeviceEntry, site: SiteConfig | None = None, network: NetworkOptions | None = None,
               secrets: SiteSecrets | None = None) -> str:
    """The role's table in device.toml: the keys a technician usually sets, with the
    defaults the role's own loader applies; commented keys are optional. A kiosk of a site
    with a web service gets the link to its ticket pages; the web service its key and logins."""
    has_web = site is not None and any(d.role == "web" for d in site.devices)
    if device.role == "kiosk" and has_web and network is not None and secrets is not None:
        return KIOSK_TABLE + (f'follow_url = "{web_url(network)}"   # the ticket\'s QR opens its live page\n'
                              f'ticket_key = "{secrets.ticket_key}"\n')
    if device.role == "web" and network is not None and secrets is not None:
        return ("[web]\n"
                f"port = {WEB_PORT}\n"
                f'public_url = "{web_url(network)}"   # what the tickets\' QR codes open\n'
                f'users_file = "{WEB_USERS_FILE}"      # hashed logins: admin and counter-<n>\n'
                f'ticket_key = "{secrets.ticket_key}"\n')
    if device.role == "hub":
        return (
            "[hub]\n"
            f'site_file = "{HUB_SITE_FILE}"     # the centre\'s catalogue, copied here by provisioning\n'
            f'database = "{HUB_DATABASE}"  # SQLite, WAL, synchronous=FULL\n'
            + HUB_BACKUP_TABLES
        )
    if device.role == "kiosk":
        return KIOSK_TABLE
    if device.role == "counter":
        return (
            "[counter]\n"
            f"number = {device.counter:<22} # the counter this node calls for\n"
            "\n"
            + COUNTER_PINS
        )
    if device.role == "display":
        shown = f"counters = {list(device.counters)}" if device.counters else "# counters = [1, 2, 3]"
        return (
            "[display]\n"
            'kind = "tv"                     # "tv": the HDMI board, spoken calls; "led": serial LED boards\n'
            "sound = true                    # speak the calls\n"
            f"{shown:<31} # only these counters (default: all)\n"
            '# services = ["HT", "CT"]       # only these services (default: all)\n'
        )
    return ""


@dataclass(frozen=True)
class NetworkOptions:
    """The `[network]` table of site.toml: how devices reach the hub and what first boot sets."""

    hub_host: str
    wifi_ssid: str = ""
    wifi_password: str = ""
    wifi_country: str = "VN"
    time_servers: tuple[str, ...] = ()  # NTP servers on the LAN the hub follows


_COUNTRY = re.compile(r"^[A-Z]{2}$")


def load_network_options(site: SiteConfig) -> NetworkOptions:
    with site.table("network") as n:
        options = NetworkOptions(
            hub_host=n.str("hub_host", "luot-hub.local"),
            wifi_ssid=n.str("wifi_ssid", ""),
            wifi_password=n.str("wifi_password", ""),
            wifi_country=n.str("wifi_country", "VN", pattern=_COUNTRY, hint="a two-letter country code"),
            time_servers=tuple(n.list("time_servers", lan_time_server(site.file), ())),
        )
        if options.wifi_ssid and not 8 <= len(options.wifi_password) <= 63:
            n.problem("wifi_password", "a WPA2 passphrase has 8 to 63 characters")
    return options


@dataclass
class BundleReport:
    """What a run wrote: files created or changed, bundles removed, passwords made."""

    out: Path
    changed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    new_passwords: list[str] = field(default_factory=list)
    devices: int = 0

    def summary(self) -> str:
        lines = [f"{self.devices} devices in {self.out}"]
        if self.new_passwords:
            lines.append(f"new passwords: {', '.join(self.new_passwords)}")
        lines.append(f"{len(self.changed)} files written" + (":" if self.changed else ", nothing changed"))
        lines += [f"  {p.relative_to(self.out)}" for p in self.changed]
        lines += [f"removed {p.relative_to(self.out)} (no longer in the inventory)" for p in self.removed]
        return "\n".join(lines)


def _secret_tables(out: Path) -> dict[str, dict[str, str]]:
    path = out / SECRETS_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None
    for name in ("passwords", "logins", "keys"):
        table = data.get(name, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ConfigError(path, name, "expected a table of name = \"secret\"")
    return data


def read_secrets(out: Path) -> dict[str, str]:
    """The devices' broker passwords, by device id."""
    return dict(_secret_tables(out).get("passwords", {}))


def write_secrets(out: Path, secrets: SiteSecrets) -> bool:
    text = dump_toml({"passwords": dict(sorted(secrets.passwords.items())),
                      "logins": dict(sorted(secrets.logins.items())),
                      "keys": {"ticket_key": secrets.ticket_key}},
                     comment="Lượt secrets in clear: device passwords, web logins, the ticket pages' key.\n"
                             "Keep this file private (mode 0600).")
    return write_if_changed(out / SECRETS_FILE, text, 0o600)


def _users_file(path: Path, logins: dict[str, str]) -> str:
    """The web service's hashed logins; a line that still matches its password is kept, so
    a bundle made again changes nothing."""
    old = parse_password_file(path.read_text(encoding="utf-8")) if path.exists() else {}
    lines = []
    for user, password in sorted(logins.items()):
        kept = old.get(user)
        lines.append(kept if kept and check_password_line(kept, password) else hash_line(user, password))
    return "".join(f"{line}\n" for line in lines)


def _web_logins(site: SiteConfig, old: dict[str, str], report: BundleReport) -> dict[str, str]:
    """A login for the leader and one per counter the web service serves, kept once made."""
    webs = [d for d in site.devices if d.role == "web"]
    if not webs:
        return {}
    counters = sorted({n for d in webs for n in (d.counters or [c.number for c in site.counters])})
    logins = {}
    for user in ["admin", *(f"counter-{n}" for n in counters)]:
        logins[user] = old.get(user) or new_password()
        if user not in old:
            report.new_passwords.append(f"web:{user}")
    return logins


def render_device_toml(site: SiteConfig, device: DeviceEntry, network: NetworkOptions,
                       broker: BrokerOptions, secrets: SiteSecrets | None = None) -> str:
    port, tls, _ca = broker.device_endpoint()
    host = "localhost" if device.role == "hub" else network.hub_host
    if device.role == "hub":  # the hub's own loopback listener, where it may connect twice
        port, tls = broker.hub_port, False
    where = f"counter {device.counter}" if device.counter is not None else device.role
    broker_table: dict[str, object] = {"host": host, "port": port,
                                       "password_file": str(password_file(device.role))}
    if tls:
        broker_table |= {"tls": True, "ca_file": str(DEVICE_CA_FILE)}
    comment = (f"Lượt device {device.id} ({where}) of site {site.id}. Written by `luot provision bundle`.\n"
               "Check it with: luot check-site site.toml device.toml")
    return device_file(device.id, device.role, site.id, broker_table, log_level="info", comment=comment,
                       role_table=role_table(device, site, network, secrets))


def hub_device(site: SiteConfig) -> DeviceEntry:
    hubs = [d for d in site.devices if d.role == "hub"]
    if len(hubs) != 1:
        raise ConfigError(site.file, "devices",
                          f"expected exactly one device with role = \"hub\"; found {len(hubs)}")
    return hubs[0]


def make_bundles(site_file: Path, out: Path, *, rotate: tuple[str, ...] = ()) -> BundleReport:
    """Write (or bring up to date) every bundle and the hub's broker files in `out`.

    Devices named in `rotate` get a new password; every other device keeps its own.
    """
    site = load_site(site_file)
    broker = load_broker_options(site)
    network = load_network_options(site)
    hub = hub_device(site)
    for device_id in rotate:
        if site.device(device_id) is None:
            raise ConfigError(site_file, "devices", f"no device {device_id!r} in the inventory")
    tls_ca = broker.device_endpoint()[2]
    ca_source = Path(tls_ca) if tls_ca else None
    if ca_source is not None and not ca_source.is_file():
        raise ConfigError(site_file, "broker.tls.ca_file",
                          f"devices connect with TLS, so provisioning copies the CA certificate, "
                          f"but {ca_source} cannot be read here")

    out.mkdir(parents=True, exist_ok=True)
    report = BundleReport(out, devices=len(site.devices))
    tables = _secret_tables(out)
    old = tables.get("passwords", {})
    passwords: dict[str, str] = {}
    updaters = updater_users(site)
    for user in [d.id for d in site.devices] + sorted(updaters):
        if user in old and user not in rotate:
            passwords[user] = old[user]
        else:
            passwords[user] = new_password()
            report.new_passwords.append(user)
    secrets = SiteSecrets(passwords, _web_logins(site, tables.get("logins", {}), report),
                          tables.get("keys", {}).get("ticket_key") or token_urlsafe(32))
    if write_secrets(out, secrets):
        report.changed.append(out / SECRETS_FILE)

    files: list[tuple[Path, str, int]] = []
    for d in site.devices:
        folder = out / d.id
        files.append((folder / "device.toml", render_device_toml(site, d, network, broker, secrets), 0o600))
        if d.role == "web":
            files.append((folder / "web-users", _users_file(folder / "web-users", secrets.logins), 0o600))
        files.append((folder / "password", passwords[d.id] + "\n", 0o600))
        if d.role != "admin":  # the Pi's updater (one per Pi: each device of it carries the same)
            updater = UPDATER_PREFIX + d.hostname
            login = dump_toml({"user": updater, "password_file": str(UPDATER_PASSWORD)},
                              comment=UPDATER_COMMENT)
            files.append((folder / "updater.toml", login, 0o600))
            files.append((folder / "updater.password", passwords[updater] + "\n", 0o600))
        if ca_source is not None:
            files.append((folder / "ca.crt", ca_source.read_text(encoding="utf-8"), 0o644))
    # site.toml holds the Wi-Fi and the city bridge's passwords.
    files.append((out / hub.id / "site.toml", Path(site_file).read_text(encoding="utf-8"), 0o600))
    report.changed += [path for path, text, mode in files if write_if_changed(path, text, mode)]

    broker_files = write_broker_files(
        out / hub.id / "broker",
        site=site.id,
        passwords=passwords,
        roles=site_roles(site),
        updaters=updaters,
        listeners=broker.listeners(),
        persistence_dir=broker.persistence_dir,
        run_as_user=HUB_BROKER_USER,
        installed_at=HUB_BROKER_DIR,
        bridge=broker.bridge,
        max_packet_size=broker.max_packet_size,
        max_queued_messages=broker.max_queued_messages,
    )
    report.changed += list(broker_files.changed)
    # The password hashes and a city bridge's password in clear: for the hub's eyes only.
    for secret in (broker_files.password_file, broker_files.conf):
        secret.chmod(0o600)

    known = {d.id for d in site.devices}
    for folder in sorted(out.iterdir()):
        if folder.is_dir() and folder.name not in known and (folder / "device.toml").exists():
            shutil.rmtree(folder)
            report.removed.append(folder)
    return report
