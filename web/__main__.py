"""`luot web`: the hub's web service, a device of its own on the hub's broker.

`luot web --config /etc/luot/device.toml` serves the pages until SIGTERM.
`luot web passwd --users /etc/luot/web-users counter-3` sets one login's password
(read from stdin, or a new random one printed once).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from broker_config.passwords import new_password
from luot import protocol as p
from luot.config import ConfigError, load_device
from luot.logs import setup_logging
from luot.role import role_parser
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks
from web.app import serve
from web.hub import HubWatch
from web.service import WebService
from web.settings import web_settings
from web.users import LoginGuard, Sessions, Users, set_password, valid_user

log = logging.getLogger("luot.web")


def passwd(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="luot web passwd", description="set a web login's password")
    parser.add_argument("--users", type=Path, default=Path("/etc/luot/web-users"))
    parser.add_argument("--stdin", action="store_true", help="read the password from stdin")
    parser.add_argument("user", help="admin (the leader) or counter-<n> (an officer)")
    args = parser.parse_args(argv)
    if not valid_user(args.user):
        print(f"luot web passwd: a login is 'admin' or 'counter-<n>', not {args.user!r}", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.stdin else new_password()
    set_password(args.users, args.user, password)
    if not args.stdin:
        print(f"{args.user}: {password}")
    return 0


async def _run(service: WebService, host: str, port: int, notifier: Notifier, update: UpdateHooks) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def watchdog() -> None:
        while not stop.is_set():
            notifier.pet()
            if service.hub.link.connected and service.hub.link.state(p.CONFIG) is not None:
                update.ready()  # serving, the hub's state here: up, for the Pi's updater
            await asyncio.sleep(1.0)

    pets = asyncio.create_task(watchdog())
    await serve(service, host, port, stop, ready=lambda bound: notifier.ready(f"pages on port {bound}"))
    notifier.stopping()
    pets.cancel()


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["passwd"]:
        return passwd(args_in[1:])
    parser = role_parser("luot web", __doc__, "the web device's device.toml (default: %(default)s)", raw=True)
    parser.add_argument("--port", type=int, help="listen on this port instead of the file's")
    args = parser.parse_args(args_in)
    try:
        device = load_device(args.config)
        settings = web_settings(device)
    except ConfigError as e:
        print(e.explain("luot web: configuration error: "))
        return 2
    setup_logging(device.log_level)
    users = Users.load(settings.users_file)
    if not users.names:
        log.warning("%s holds no logins: the consoles and the dashboard cannot be opened",
                    settings.users_file)
    hub = HubWatch(device.broker, device_id=device.id, site=device.site, hub_id=settings.hub_id)
    service = WebService(hub, device.site, settings.ticket_key, users, Sessions(), LoginGuard())
    asyncio.run(_run(service, settings.listen, args.port or settings.port, Notifier(),
                     UpdateHooks.from_environment()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
