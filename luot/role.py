"""What every role's `luot <command>` starts with: its parser with `--config`, and the signals
that stop it (SIGTERM from systemd, SIGINT from a technician's Ctrl-C)."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from pathlib import Path

DEVICE_FILE = Path("/etc/luot/device.toml")


def role_parser(prog: str, description: str | None, config_help: str, *, raw: bool = False,
                config: Path = DEVICE_FILE) -> argparse.ArgumentParser:
    """`raw` keeps the description's own line breaks (a usage block in the docstring)."""
    formatter = argparse.RawDescriptionHelpFormatter if raw else argparse.HelpFormatter
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=formatter)
    parser.add_argument("--config", type=Path, default=config, help=config_help)
    return parser


def on_stop(stop: Callable[[], None]) -> None:
    """`stop` must be safe in a signal handler: set a flag or an event, nothing that blocks."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())
