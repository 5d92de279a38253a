"""`luot updater`: the Pi's updater, as root under luot-updater.service.

    luot updater [--etc /etc/luot] [--root /opt/luot]

It reads the role files of this Pi (/etc/luot/<role>.toml) to know its devices and the
broker, and /etc/luot/updater.toml for its own broker user. Exit 0 after moving the Pi to
a new release: systemd starts it again from the new virtualenv.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path

from fleet.link import FleetLink
from fleet.units import ROLE_UNITS, SystemdUnits
from fleet.updater import READY_TIMEOUT_S, PiRole, Record, Updater
from fleet.venvs import RepoSource, Venvs
from luot.config import BrokerSettings, ConfigError, load_device, open_toml, read_password
from luot.logs import setup_logging
from provisioning.roles import ETC, LUOT_ROOT, UPDATER_PASSWORD, UPDATER_TOML, extras_for, repo_url

RECORD = Path("/var/lib/luot-updater/record.json")


def read_pi(etc: Path) -> tuple[list[PiRole], str, BrokerSettings, float]:
    """This Pi's devices (one per role file) and the broker settings the updater logs in with."""
    devices = [load_device(etc / f"{role}.toml") for role in ROLE_UNITS if (etc / f"{role}.toml").is_file()]
    if not devices:
        raise ConfigError(etc, "", f"no role file (<role>.toml for {', '.join(ROLE_UNITS)}) here")
    with open_toml(etc / UPDATER_TOML.name) as top:
        user = top.str("user")
        password = read_password(top, default_file=etc / UPDATER_PASSWORD.name)
        # How long a restarted role has to say it is up before the update is rolled back.
        ready_timeout_s = top.float("ready_timeout_s", READY_TIMEOUT_S, min=10.0)
    broker = dataclasses.replace(devices[0].broker, username=user, password=password)
    return [PiRole(d.id, d.role) for d in devices], devices[0].site, broker, ready_timeout_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot updater", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--etc", type=Path, default=ETC)
    parser.add_argument("--root", type=Path, default=LUOT_ROOT)
    parser.add_argument("--record", type=Path, default=RECORD)
    args = parser.parse_args(argv)
    setup_logging("info")
    try:
        roles, site, broker, ready_timeout_s = read_pi(args.etc)
    except ConfigError as e:
        print(e.explain("luot updater: "), file=sys.stderr)
        return 2
    role_names = [r.role for r in roles]
    link = FleetLink(broker, site)
    source = RepoSource(repo_url(role_names, broker.host), None if "hub" in role_names else broker.host,
                        tuple(extras_for(role_names)))
    updater = Updater(roles, Venvs(args.root), SystemdUnits(), Record.load(args.record), publish=link.publish,
                      source=source, ready_timeout_s=ready_timeout_s)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    link.start(updater)
    try:
        moved = updater.run(stopping)
    finally:
        link.stop()
    return 0 if moved or stopping.is_set() else 1


if __name__ == "__main__":
    raise SystemExit(main())
