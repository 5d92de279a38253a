"""`luot <command>`: one entry point for every role and tool.

Each command's module is imported only when that command is asked for, so a
counter node never loads pygame.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

COMMANDS = {
    "dispatcher": ("dispatcher.__main__", "the queue authority on the hub"),
    "kiosk": ("kiosk.__main__", "the touch kiosk that prints tickets"),
    "display": ("display.__main__", "a hallway TV board or LED board, with spoken calls"),
    "counter": ("counter_button.__main__", "a counter's call-buttons, light and LED board"),
    "web": ("web.__main__", "the hub's web service: ticket pages, counter consoles, dashboard, board"),
    "provision": ("provisioning.__main__", "make device bundles, broker files and SD images"),
    "updater": ("fleet.__main__", "this Pi's updater: takes the release the hub publishes (as root)"),
    "fleet": ("fleet.publish", "publish a new release on the hub for every Pi of the centre"),
    "backup": ("dispatcher.backup", "back up the hub's database and apply the retention rules (nightly)"),
    "city": ("city.__main__", "the city's servers: collect every centre's journal, serve the city pages"),
    "admin": ("tools.admin", "open or close the day, look at the queue, restore a backup"),
    "check-site": ("tools.check_site", "validate a site.toml (and device.toml files)"),
    "demo": ("tools.demo", "a whole centre on this machine"),
    "simulate": ("tools.simulate", "a day of a centre at accelerated time, with planning figures"),
    "report": ("tools.report", "the day's figures from the hub's database, for the leaders"),
}


def screen_size(text: str) -> tuple[int, int]:
    found = re.fullmatch(r"(\d{3,4})x(\d{3,4})", text)
    if not found:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got {text!r}")
    return int(found[1]), int(found[2])


def add_screen_options(parser: argparse.ArgumentParser) -> None:
    """`--size` and `--windowed`, as every role with a screen takes them."""
    parser.add_argument("--size", type=screen_size, help="screen size WIDTHxHEIGHT (default: the screen's)")
    parser.add_argument("--windowed", action="store_true", help="a window instead of full screen")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: luot <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "luot <command> --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"luot: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
