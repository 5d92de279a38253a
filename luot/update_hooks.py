"""A role's half of a fleet update, through files in its systemd RuntimeDirectory.

The Pi's updater (root) and the role (user luot) share one folder, /run/luot-<role>,
which systemd empties whenever the role stops, so nothing in it outlives a process:

    ready         the role writes it once it is up (connected, its state received),
                  with its version: the updater's check after a restart
    update-hold   the updater asks the role to finish what it is doing and take no more
    update-held   the role's answer, at a quiet moment: nothing a restart would cut

A role outside systemd (a demo, a test without the variable) has no folder: it is never
held, and its readiness goes nowhere.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import luot

READY = "ready"
HOLD = "update-hold"
HELD = "update-held"


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class UpdateHooks:
    def __init__(self, folder: Path | None, *, version: str = luot.__version__,
                 check_every_s: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self.version = version
        self._check_every_s = check_every_s
        self._clock = clock
        self._checked_at = float("-inf")
        self._hold = False
        self._held = False
        self._ready = False

    @classmethod
    def from_environment(cls) -> UpdateHooks:
        """The unit's RuntimeDirectory (systemd names it in $RUNTIME_DIRECTORY)."""
        named = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
        return cls(Path(named) if named else None)

    def ready(self) -> None:
        """Once per process: the role is up (a later call is free, so a loop may call it)."""
        if self.folder is not None and not self._ready:
            self._ready = True
            write_atomically(self.folder / READY, json.dumps({"version": self.version, "pid": os.getpid()}))

    def hold_asked(self) -> bool:
        """Whether the updater waits for this role (a file check at most every 0.5 s)."""
        if self.folder is None:
            return False
        now = self._clock()
        if now - self._checked_at >= self._check_every_s:
            self._checked_at = now
            self._hold = (self.folder / HOLD).exists()
        return self._hold

    @property
    def held(self) -> bool:
        return self._held

    def hold(self, held: bool) -> None:
        """Say whether the role is held: it takes no new work until it is restarted."""
        if self.folder is None or held == self._held:
            return
        self._held = held
        if held:
            write_atomically(self.folder / HELD, self.version)
        else:
            (self.folder / HELD).unlink(missing_ok=True)
