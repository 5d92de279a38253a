"""`luot dispatcher`: run the queue authority on the hub.

Reads the hub's device.toml (its `[hub]` table names the site file and the
database), validates both files, then serves until SIGTERM.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dispatcher.clock import ClockGuard
from dispatcher.journal import JournalPublisher
from dispatcher.service import Dispatcher
from dispatcher.settings import load_hub_settings
from luot.config import ConfigError, DeviceConfig, load_device, load_site
from luot.logs import setup_logging
from luot.role import on_stop, role_parser
from luot.update_hooks import UpdateHooks


def hub_paths(device: DeviceConfig) -> tuple[Path, Path]:
    """The site file and the database; the whole [hub] table is read, so a mistake in
    [hub.backup] or [hub.retention] stops the start, not the night's backup."""
    settings = load_hub_settings(device)
    return settings.site_file, settings.database


def main(argv: list[str] | None = None) -> int:
    parser = role_parser("luot dispatcher", __doc__, "the hub's device.toml (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        device = load_device(args.config)
        device.require_role("hub", "dispatcher")
        site_file, database = hub_paths(device)
        trust_clock = load_hub_settings(device).trust_clock
        site = load_site(site_file)
        if site.id != device.site:
            raise device.error("site", f"is {device.site!r} but {site_file} is {site.id!r}")
    except ConfigError as e:
        print(e.explain("luot dispatcher: configuration error: "))
        return 2
    setup_logging(device.log_level)
    database.parent.mkdir(parents=True, exist_ok=True)
    guard = None if trust_clock else ClockGuard()
    dispatcher = Dispatcher(site, database, device.broker, device_id=device.id, clock_guard=guard)
    dispatcher.update = UpdateHooks.from_environment()
    on_stop(dispatcher.stop_soon)
    logging.getLogger("luot.dispatcher").info(
        "site %s: %d services, %d counters, database %s",
        site.id, len(site.services), len(site.counters), database,
    )
    # The city's journal goes out on its own connection: the dispatcher never waits on it.
    journal = JournalPublisher(site.id, database, device.broker, device_id=device.id)
    journal.start()
    try:
        dispatcher.run()
    finally:
        journal.stop()
        dispatcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
