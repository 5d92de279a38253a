"""`luot city`: the city's servers.

`luot city collect` stores every centre's journal from the broker cluster in
PostgreSQL and repairs gaps; run one or more (each with its own name) under
systemd. `luot city web` serves the city dashboard and the monthly report.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from city.settings import DEFAULT_FILE, load_city
from luot.config import ConfigError
from luot.logs import setup_logging
from luot.systemd import Notifier

log = logging.getLogger("luot.city")


def collect(config: Path, name: str | None) -> int:
    from city.collector import Collector

    settings = load_city(config)
    name = name or settings.collector_name
    collector = Collector(settings.cluster, settings.dsn, name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    notifier = Notifier()
    collector.start()
    notifier.ready(f"collecting as {name}")
    while not stop.wait(5.0):
        notifier.pet()
        log.info("stored %d events (%d received, %d resend requests)",
                 collector.stored, collector.received, collector.resends_asked)
    notifier.stopping()
    collector.stop()
    return 0


def web(config: Path) -> int:
    from city.portal import Portal
    from city.web import serve

    settings = load_city(config)
    portal = Portal(settings.cluster, list(settings.centres)) if settings.centres else None
    if portal is not None:
        portal.start()
    serve(settings.dsn, settings.bind, settings.port, settings.city_name, portal)
    if portal is not None:
        portal.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot city", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("collect", "web"))
    parser.add_argument("--config", type=Path, default=DEFAULT_FILE,
                        help="the city's settings (default: %(default)s)")
    parser.add_argument("--name", help="this collector's name, its session in the cluster "
                        "(default: [collector] name)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        return collect(args.config, args.name) if args.command == "collect" else web(args.config)
    except ConfigError as e:
        print(e.explain("luot city: configuration error: "))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
