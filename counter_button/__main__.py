"""`luot counter`: a counter's call-buttons, status light and LED number board.

    luot counter [--config /etc/luot/device.toml]   the node on the Pi's GPIO
    luot counter --keys                             the node on mock pins, driven from stdin
    luot counter --label OUT.png [--site site.toml] the printable button label
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from counter_button.settings import CounterSettings, read_settings
from luot.config import ConfigError, DeviceConfig, SiteConfig, load_device, load_site
from luot.logs import setup_logging
from luot.update_hooks import UpdateHooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot counter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("/etc/luot/device.toml"),
                        help="the counter's device.toml (default: %(default)s)")
    parser.add_argument("--keys", action="store_true",
                        help="no GPIO: mock pins pressed by lines on stdin (see counter_button/README.md)")
    parser.add_argument("--label", type=Path, metavar="OUT.png", help="write the button label sheet and exit")
    parser.add_argument("--site", type=Path, help="with --label: list the transfer choices of this site.toml")
    args = parser.parse_args(argv)
    site: SiteConfig | None = None
    try:
        device = load_device(args.config)
        settings = read_settings(device, default_rating=args.keys)
        if args.site:
            site = load_site(args.site)
    except ConfigError as e:
        print(e.explain("luot counter: configuration error: "))
        return 2
    if args.label:
        from counter_button.label import render_label

        render_label(settings, site, args.label)
        print(f"luot counter: label written to {args.label}")
        return 0
    setup_logging(device.log_level)
    return run(device, settings, keys=args.keys)


def run(device: DeviceConfig, settings: CounterSettings, *, keys: bool) -> int:
    from gpiozero.exc import BadPinFactory, GPIOZeroError
    from gpiozero.pins.mock import MockFactory

    from counter_button.hardware import Hardware
    from counter_button.keys import KeyDriver
    from counter_button.node import CounterNode
    from luot.ledboard import LedBus
    from luot.mqtt import HubLink

    try:
        hardware = Hardware(settings, MockFactory() if keys else None)
    except (BadPinFactory, GPIOZeroError) as e:
        print(f"luot counter: cannot use the GPIO pins: {e} (on a laptop, try --keys)")
        return 1
    bus = LedBus(settings.board) if settings.board else None
    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="counter")

    def say(line: str) -> None:
        print(line, flush=True)

    node = CounterNode(
        settings,
        link,
        light_write=hardware.light,
        read_pressed=hardware.is_pressed,
        board=bus.board(settings.board_address, "counter board") if bus else None,
        beep=hardware.beep,
        on_outcome=say if keys else None,
        update=UpdateHooks.from_environment(),
    )
    hardware.attach(node.edge)
    signal.signal(signal.SIGTERM, lambda *_: node.stop())
    signal.signal(signal.SIGINT, lambda *_: node.stop())
    link.start()
    if keys:
        driver = KeyDriver(settings, hardware, say)

        def read_stdin() -> None:
            driver.run(sys.stdin)
            node.stop()

        threading.Thread(target=read_stdin, name="counter-keys", daemon=True).start()
    try:
        node.run()
    finally:
        link.stop()
        hardware.close()
        if bus:
            bus.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
