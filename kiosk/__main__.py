"""`luot kiosk`: the touch screen, the ticket printer and the optional CCCD scanner.

Reads the kiosk's device.toml (its `[kiosk]` table names the printer), checks
it before anything starts, then runs the screen until SIGTERM or Escape.
`--keys` reads lines such as `CT` or `CT nguoi-cao-tuoi` from stdin and
touches those buttons for the demo, through the same path as a finger.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import shutil
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

import pygame

from kiosk.desk import TicketDesk
from kiosk.printer import open_printer
from kiosk.reader import Reader
from kiosk.scanner import CardScanner
from kiosk.screens import follow_hub, link_snapshot
from kiosk.settings import load_kiosk_settings
from kiosk.ui import KioskUI
from luot.cli import add_screen_options
from luot.config import ConfigError, load_device
from luot.logs import setup_logging
from luot.mqtt import HubLink
from luot.role import on_stop, role_parser
from luot.screen import open_screen
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger("kiosk")


def versions() -> dict[str, str]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {"luot": version("luot"), "python-escpos": version("python-escpos"),
            "pygame-ce": pygame.version.ver, "python": platform.python_version()}


def _feed_keys(ui: KioskUI) -> None:
    for line in sys.stdin:
        ui.notify("keys", line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = role_parser("luot kiosk", __doc__, "the kiosk's device.toml (default: %(default)s)", raw=True)
    add_screen_options(parser)
    parser.add_argument("--keys", action="store_true",
                        help="read 'CT' or 'CT nguoi-cao-tuoi' lines from stdin and touch those buttons")
    args = parser.parse_args(argv)
    try:
        device = load_device(args.config)
        device.require_role("kiosk", "kiosk")
        settings = load_kiosk_settings(device)
    except ConfigError as e:
        print(e.explain("luot kiosk: configuration error: "))
        return 2
    setup_logging(device.log_level)

    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="kiosk")
    surface = open_screen(args.size, fullscreen=not args.windowed)
    pygame.display.set_caption("Lượt — kiosk")
    # The read-aloud mode's sentences are made once and kept where the kiosk may write.
    reader = Reader(Path(tempfile.gettempdir()) / "luot-kiosk-voice")
    ui = KioskUI(surface, lambda: link_snapshot(link), lambda request: desk.submit(request),
                 return_after_s=settings.return_after_s, citizen_secret=settings.citizen_secret,
                 reader=reader, update=UpdateHooks.from_environment())
    printer = open_printer(settings.printer, settings.profile)
    follow = None
    if settings.follow_url and settings.ticket_key:
        follow = (settings.follow_url, settings.ticket_key.encode())
    desk = TicketDesk(link, printer, settings.paper_px, ui.notify, versions=versions(), follow=follow)
    desk.extra_health["read_aloud"] = "ok" if shutil.which("espeak-ng") else "no espeak-ng: large text only"

    follow_hub(link, lambda: ui.notify("hub"))

    scanner = None
    if settings.scanner is not None:
        def scanner_state(state: str) -> None:
            desk.extra_health["scanner"] = state
            desk.publish_health()

        scanner = CardScanner(settings.scanner, settings.scanner_baudrate,
                              lambda code: ui.notify("scan", code), scanner_state)
    if args.keys:
        threading.Thread(target=_feed_keys, args=(ui,), name="kiosk-keys", daemon=True).start()

    def stop() -> None:
        ui.running = False
        ui.wakeup.set()

    on_stop(stop)
    notifier = Notifier()
    # Whatever stops the loop, a fault included, every part started is stopped, last first.
    with ExitStack() as running:
        running.callback(pygame.quit)
        running.callback(reader.stop)
        for part in (link, desk, scanner):
            if part is not None:
                part.start()
                running.callback(part.stop)
        log.info("kiosk %s: printer %s (%s, %d dots), screen %dx%d", device.id, settings.printer.url,
                 settings.profile, settings.paper_px, *surface.get_size())
        notifier.ready(f"kiosk {device.id}")
        watchdog = notifier.watchdog_interval or 60.0
        ui.draw(force=True)
        while ui.running:
            ui.pump(min(ui.next_timeout(), watchdog))
            notifier.pet()
        notifier.stopping()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
