"""`luot display`: a hallway TV board with spoken calls, or a hallway LED board.

Reads the device's `[display]` table: `kind = "tv"` (the default) runs the
pygame board, `kind = "led"` the serial LED board node. `--build-voice DIR`
makes the default voice pack with espeak-ng and needs no configuration.
"""

from __future__ import annotations

import argparse
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pygame

from luot import __version__
from luot.cli import add_screen_options
from luot.config import ConfigError, DeviceConfig, counter_number, load_device, service_code
from luot.logs import setup_logging
from luot.mqtt import HubLink
from luot.role import on_stop, role_parser
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger("luot.display")

KINDS = ("tv", "led")
DEFAULT_VOICE = Path("/var/lib/luot/voice")


@dataclass(frozen=True)
class TvSettings:
    counters: set[int] | None
    services: set[str] | None
    voice: Path
    sound: bool


def display_kind(device: DeviceConfig) -> str:
    kind = device.role_settings.get("kind", "tv")
    if kind not in KINDS:
        raise device.error("display.kind", f"expected one of {', '.join(KINDS)}; got {kind!r}")
    return str(kind)


def display_settings(device: DeviceConfig) -> object:
    """The settings of either kind of display, every key checked (used by `luot check-site`)."""
    if display_kind(device) == "led":
        from display.led_hall import led_settings

        return led_settings(device)
    return tv_settings(device)


def tv_settings(device: DeviceConfig) -> TvSettings:
    """The `[display]` table of a TV board, every key checked."""
    with device.role_section() as section:
        section.str("kind", "tv", choices=KINDS)
        counters = section.list("counters", counter_number(device.file), None)
        services = section.list("services", service_code(device.file), None)
        return TvSettings(
            counters=set(counters) if counters else None,
            services=set(services) if services else None,
            voice=Path(section.str("voice", str(DEFAULT_VOICE))),
            sound=section.bool("sound", True),
        )


def build_voice(folder: Path) -> int:
    from display.voice import VoiceError, build_voice_pack

    try:
        written = build_voice_pack(folder, keep_existing=True)
    except VoiceError as e:
        print(f"luot display: {e}")
        return 1
    print(f"luot display: {len(written)} clips written to {folder} (clips already there were kept)")
    return 0


def start_announcer(settings: TvSettings) -> tuple[Any, str]:
    """The announcer (None when the site wants silence or this machine has no audio), and the
    voice's state for the technician: `ok`, `off`, `no_audio`, or `missing N of M clips`."""
    from display.voice import Announcer, VoicePack
    from luot.speech import voice_clips

    if not settings.sound:
        return None, "off"
    try:
        pygame.mixer.init(frequency=22050, size=-16, channels=1)
    except pygame.error as e:
        log.error("no audio output (%s): calls will be shown but not spoken", e)
        return None, "no_audio"
    pack = VoicePack(settings.voice)
    pygame.mixer.quit()  # the announcer opens the device only while it speaks
    wanted = ["chime", *voice_clips()]
    missing = pack.missing(wanted)
    if missing:
        log.warning(
            "voice pack %s lacks %d clips (%s…): run `luot display --build-voice %s`",
            settings.voice, len(missing), ", ".join(missing[:5]), settings.voice,
        )
        return Announcer(pack), f"missing {len(missing)} of {len(wanted)} clips in {settings.voice}"
    return Announcer(pack), "ok"


def main(argv: list[str] | None = None) -> int:
    parser = role_parser("luot display", __doc__, "this display's device.toml (default: %(default)s)")
    add_screen_options(parser)
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="save a PNG of the screen after each call is drawn")
    parser.add_argument("--frame-log", type=Path, metavar="FILE",
                        help="append one JSON line per frame with counter cards (for bench/display.py)")
    parser.add_argument("--build-voice", type=Path, metavar="DIR",
                        help="write the default voice pack (espeak-ng) into DIR and exit")
    args = parser.parse_args(argv)
    if args.build_voice is not None:
        return build_voice(args.build_voice)
    try:
        device = load_device(args.config)
        device.require_role("display", "display")
        if display_kind(device) == "led":
            from display.led_hall import main_led

            return main_led(device)
        settings = tv_settings(device)
    except ConfigError as e:
        print(e.explain("luot display: configuration error: "))
        return 2
    setup_logging(device.log_level)
    return run_tv(device, settings, args)


def run_tv(device: DeviceConfig, settings: TvSettings, args: argparse.Namespace) -> int:
    from display.app import DisplayApp
    from display.state import BoardState
    from luot.screen import open_screen

    screen = open_screen(args.size, fullscreen=not args.windowed)
    announcer, voice = start_announcer(settings)
    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="display")
    app = DisplayApp(
        link, screen, BoardState(counters=settings.counters, services=settings.services),
        announcer=announcer, notifier=Notifier(), screenshots=args.screenshots, frame_log=args.frame_log,
        update=UpdateHooks.from_environment(),
    )
    on_stop(app.stop_soon)
    width, height = screen.get_size()
    link.publish_health({"role": "display", "kind": "tv", "screen": f"{width}x{height}",
                         "sound": announcer is not None, "voice": voice, "versions": {"luot": __version__},
                         "at": datetime.now().astimezone().isoformat(timespec="seconds")})
    with ExitStack() as running:
        running.callback(pygame.quit)
        running.callback(app.close)
        link.start()
        running.callback(link.stop)
        log.info("board %dx%d for %s; voice %s", width, height, device.site,
                 settings.voice if announcer else "off")
        app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
