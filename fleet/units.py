"""The role units of a Pi as the updater drives them: systemd on a Pi, processes in tests.

Each role runs as one unit whose RuntimeDirectory (/run/<unit>) holds the files of
`luot.update_hooks`: systemd makes it when the unit starts and removes it when it stops.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# The unit of each role the updater restarts; the hub's Mosquitto and repository are Debian's.
ROLE_UNITS = {
    "hub": "luot-dispatcher",
    "web": "luot-web",
    "kiosk": "luot-kiosk",
    "display": "luot-display",
    "counter": "luot-counter",
}
# Roles that hold at a quiet moment before a restart; the others stop gracefully at any time
# (the dispatcher answers the command in hand, the web pages reconnect by themselves).
HOLDING_ROLES = frozenset({"kiosk", "display", "counter"})


class Units(Protocol):
    def restart(self, units: list[str]) -> None: ...

    def runtime_dir(self, unit: str) -> Path: ...


class SystemdUnits:
    def __init__(self, run: Path = Path("/run")) -> None:
        self.run = run

    def restart(self, units: list[str]) -> None:
        done = subprocess.run(["systemctl", "restart", *(f"{u}.service" for u in units)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            # Not fatal: the check after the restart says which role did not come up.
            log.warning("systemctl restart failed: %s", done.stderr.strip())

    def runtime_dir(self, unit: str) -> Path:
        return self.run / unit
