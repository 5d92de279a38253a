"""One Pi's updater: from a published release to every role of the Pi running it, or back.

It hears the retained release and the other Pis' update states, and publishes where each
device of its Pi stands. An update goes: wait for the role's canary (unless this Pi is
one), install into venvs/<version> while the roles run on, ask each role to hold at a
quiet moment, switch the link, restart the units, and wait for every role's `ready` with
the new version. A role not up within the bound is rolled back: the link goes back, the
units restart on the version that ran before, and the release is not tried again here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fleet.release import (
    CHECKING,
    FAILED,
    HEALTHY,
    HELD,
    IDLE,
    INSTALLING,
    RESTARTING,
    ROLLED_BACK,
    WAITING_CANARY,
    WAITING_QUIET,
    Release,
    UpdateState,
)
from fleet.units import HOLDING_ROLES, ROLE_UNITS, Units
from fleet.venvs import InstallError, RepoSource, Venvs
from luot.update_hooks import HELD as HELD_FILE
from luot.update_hooks import HOLD, READY, write_atomically

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 180.0  # a Pi 3 starts a screen role in well under a minute
POLL_S = 0.2


@dataclass(frozen=True)
class PiRole:
    device: str
    role: str

    @property
    def unit(self) -> str:
        return ROLE_UNITS[self.role]


@dataclass
class Record:
    """What the updater keeps across its own restarts: releases that failed here, how (FAILED
    to install or ROLLED_BACK) and why."""

    path: Path
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)  # version → (state, detail)
    previous: str | None = None

    @classmethod
    def load(cls, path: Path) -> Record:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        failed = data.get("failed") if isinstance(data, dict) else None
        previous = data.get("previous") if isinstance(data, dict) else None
        return cls(path, {str(version): (str(how.get("state")), str(how.get("detail")))
                          for version, how in (failed or {}).items() if isinstance(how, dict)},
                   previous if isinstance(previous, str) else None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        failed = {version: {"state": state, "detail": detail}
                  for version, (state, detail) in self.failed.items()}
        write_atomically(self.path, json.dumps({"failed": failed, "previous": self.previous}))


class Abandoned(Exception):
    """A newer release (or none) was published while this one was on its way, or the updater
    is stopping."""


class Updater:
    def __init__(self, roles: list[PiRole], venvs: Venvs, units: Units, record: Record, *,
                 publish: Callable[[str, UpdateState], None], source: RepoSource,
                 ready_timeout_s: float = READY_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.roles = roles
        self.venvs = venvs
        self.units = units
        self.record = record
        self._publish = publish
        self.source = source
        self._ready_timeout_s = ready_timeout_s
        self._clock = clock
        self._events: queue.Queue[None] = queue.Queue()
        self._lock = threading.Lock()
        self._release: Release | None = None
        self._others: dict[str, UpdateState] = {}
        self.version = venvs.current() or "?"
        self._said: tuple[str, str, str | None, str] | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ what it hears

    def heard_release(self, release: Release | None) -> None:
        with self._lock:
            self._release = release
        self._events.put(None)

    def heard_state(self, device: str, state: UpdateState | None) -> None:
        with self._lock:
            if state is None:
                self._others.pop(device, None)
            else:
                self._others[device] = state
        self._events.put(None)

    def _latest(self) -> Release | None:
        with self._lock:
            return self._release

    # ------------------------------------------------------------------ the loop

    def run(self, stopping: threading.Event) -> bool:
        """Until `stopping`; True once this Pi has moved to a new version (its updater restarts)."""
        self._stopping = stopping
        self._release_holds()  # asked by an updater that died while waiting: the roles serve on
        self._say(IDLE)
        while not stopping.is_set():
            release = self._latest()
            try:
                if release is not None and self._step(release):
                    return True
            except Abandoned:
                log.info("release %s abandoned on its way", release.version if release else None)
                continue
            with contextlib.suppress(queue.Empty):
                self._events.get(timeout=1.0)
        return False

    def _step(self, release: Release) -> bool:
        """Act on the release once; True if this Pi now runs it."""
        if release.version == self.version:
            self._say(HEALTHY if self.record.previous else IDLE, release.version)
            return False
        if release.version in self.record.failed:
            state, detail = self.record.failed[release.version]
            self._say(state, release.version, detail)
            return False
        waiting = self._canary_wait(release)
        if waiting is not None:
            self._say(*waiting)
            return False
        return self._update(release)

    def _canary_wait(self, release: Release) -> tuple[str, str, str] | None:
        """(state, target, detail) while a role of this Pi waits for its canary, else None."""
        mine = {r.device for r in self.roles}
        with self._lock:
            others = dict(self._others)
        waiting = []
        for role in sorted({r.role for r in self.roles}):
            canary = release.canaries.get(role)
            if canary is None or canary in mine:
                continue
            state = others.get(canary)
            if state is not None and state.target == release.version and state.state in (ROLLED_BACK, FAILED):
                return HELD, release.version, f"{canary} ({role}) {state.state}: {state.detail}"
            if state is None or state.version != release.version or state.state != HEALTHY:
                waiting.append(f"{canary} ({role})")
        if waiting:
            return WAITING_CANARY, release.version, "chờ " + ", ".join(waiting)
        return None

    # ------------------------------------------------------------------ one update

    def _update(self, release: Release) -> bool:
        old = self.version
        self._say(INSTALLING, release.version)
        try:
            self.venvs.install(release, self.source)
        except InstallError as e:
            self._give_up(release, f"install: {e}", FAILED)
            return False
        self._check_current(release)
        self._say(WAITING_QUIET, release.version)
        try:
            self._hold_all(release)
        except Abandoned:
            self._release_holds()
            raise
        self._say(RESTARTING, release.version)
        self.venvs.switch(release.version)
        self.units.restart([r.unit for r in self.roles])
        self._say(CHECKING, release.version)
        missing = self._wait_ready(release.version)
        if not missing:
            self.version = release.version
            self.record.previous = old
            self.record.save()
            self._say(HEALTHY, release.version)
            self.venvs.prune({release.version, old})
            return True
        detail = f"{', '.join(missing)} not up within {self._ready_timeout_s:.0f} s"
        log.error("release %s: %s; rolling back to %s", release.version, detail, old)
        self.venvs.switch(old)
        self.units.restart([r.unit for r in self.roles])
        still = self._wait_ready(old)
        if still:
            detail += f"; after the rollback {', '.join(still)} not up either"
        self._give_up(release, detail, ROLLED_BACK)
        return False

    def _give_up(self, release: Release, detail: str, state: str) -> None:
        self.record.failed[release.version] = (state, detail)
        self.record.save()
        self._say(state, release.version, detail)

    def _check_current(self, release: Release) -> None:
        if self._latest() != release or self._stopping.is_set():
            raise Abandoned

    def _hold_all(self, release: Release) -> None:
        """Ask every holding role to hold; wait (without bound) until each says it is quiet."""
        holding = [r for r in self.roles if r.role in HOLDING_ROLES]
        for r in holding:
            folder = self.units.runtime_dir(r.unit)
            if folder.is_dir():
                write_atomically(folder / HOLD, release.version)
        while True:
            waiting = [r for r in holding if self.units.runtime_dir(r.unit).is_dir()
                       and not (self.units.runtime_dir(r.unit) / HELD_FILE).exists()]
            if not waiting:
                return
            self._check_current(release)
            time.sleep(POLL_S)

    def _release_holds(self) -> None:
        for r in self.roles:
            (self.units.runtime_dir(r.unit) / HOLD).unlink(missing_ok=True)

    def _wait_ready(self, version: str) -> list[str]:
        """The roles not up on `version` within the bound (each writes `ready` once it is)."""
        deadline = self._clock() + self._ready_timeout_s
        while True:
            missing = [f"{r.device} ({r.role})" for r in self.roles if self._ready_version(r) != version]
            if not missing or self._clock() >= deadline:
                return missing
            time.sleep(POLL_S)

    def _ready_version(self, role: PiRole) -> str | None:
        try:
            data: Any = json.loads((self.units.runtime_dir(role.unit) / READY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data.get("version") if isinstance(data, dict) else None

    # ------------------------------------------------------------------ what it says

    def _say(self, state: str, target: str | None = None, detail: str = "") -> None:
        """Publish where this Pi stands, once per change (the loop asks again at every message)."""
        said = (self.version, state, target, detail)
        if said == self._said:
            return
        self._said = said
        log.info("update state %s (running %s, release %s) %s", state, self.version, target, detail)
        at = datetime.now().astimezone().isoformat(timespec="seconds")
        for r in self.roles:
            self._publish(r.device, UpdateState(self.version, state, target, detail, at))
