"""A small process supervisor for running a whole centre on one machine.

Each child is a named command in its own process group. A child that exits
on its own with a failure is started again after a backoff that doubles up to
a ceiling (and resets once it has stayed up a while); `stop()` sends SIGTERM to
every group, waits a grace period, then SIGKILLs what is left, so a stopped
supervisor leaves no process behind. Lines can be fed to a child's stdin
(the counters' `--keys` mode, the kiosk's scripted touches).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

POLL_S = 0.05
STABLE_AFTER_S = 10.0


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not ended within `timeout`: one child, no group."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Child:
    """One supervised command and what the supervisor knows of it."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    stdin: bool = False
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = 0.0
    restart_at: float | None = None
    finished: bool = False
    exit_codes: list[int] = field(default_factory=list)
    _log_handle: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, *, backoff_initial_s: float = 0.5, backoff_max_s: float = 10.0,
                 grace_s: float = 5.0, on_exit: Callable[[Child, int], None] | None = None) -> None:
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.grace_s = grace_s
        self.on_exit = on_exit
        self.children: dict[str, Child] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    # ------------------------------------------------------------------ children

    def add(self, name: str, argv: list[str], *, env: dict[str, str] | None = None,
            stdin: bool = False, log_file: Path | None = None) -> Child:
        """Register a child; it starts with `start()` (or at once if already started)."""
        with self._lock:
            if name in self.children:
                raise ValueError(f"a child named {name!r} is already supervised")
            child = Child(name, list(argv), env, stdin, log_file)
            self.children[name] = child
            if self._monitor is not None:
                self._spawn(child)
            return child

    def start(self) -> None:
        with self._lock:
            for child in self.children.values():
                if child.process is None:
                    self._spawn(child)
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._monitor.start()

    def send(self, name: str, line: str) -> bool:
        """Write one line to a child's stdin; False if it is not running or has no pipe."""
        with self._lock:
            child = self.children[name]
            if not child.running or child.process is None or child.process.stdin is None:
                return False
            try:
                child.process.stdin.write(line.rstrip("\n").encode("utf-8") + b"\n")
                child.process.stdin.flush()
            except (BrokenPipeError, ValueError):
                return False
            return True

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal one child's process group (for fault drills: the supervisor restarts it)."""
        with self._lock:
            child = self.children[name]
            if child.running and child.process is not None:
                os.killpg(child.process.pid, sig)

    # ------------------------------------------------------------------ stopping

    def stop(self) -> None:
        """SIGTERM every child's group, then SIGKILL whatever outlives the grace period."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        with self._lock:
            running = [c for c in self.children.values() if c.running]
            for child in running:
                self._signal_group(child, signal.SIGTERM)
            deadline = time.monotonic() + self.grace_s
            for child in running:
                assert child.process is not None
                try:
                    child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop within %.1f s: killing it", child.name, self.grace_s)
            for child in running:
                # The leader may be gone while others in its group live on: kill the group.
                self._signal_group(child, signal.SIGKILL)
                assert child.process is not None
                child.process.wait()
            for child in self.children.values():
                self._close_files(child)

    # ------------------------------------------------------------------ internals

    def _spawn(self, child: Child) -> None:
        if child.log_file is not None:
            child.log_file.parent.mkdir(parents=True, exist_ok=True)
            if child._log_handle is None:
                child._log_handle = child.log_file.open("ab")
        output = child._log_handle if child._log_handle is not None else None
        env = {**os.environ, **child.env} if child.env else None
        child.process = subprocess.Popen(
            child.argv,
            stdin=subprocess.PIPE if child.stdin else subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            env=env,
            process_group=0,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started %s (pid %d): %s", child.name, child.process.pid, " ".join(child.argv))

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_S):
            with self._lock:
                if self._stopping.is_set():
                    return
                now = time.monotonic()
                for child in self.children.values():
                    self._check(child, now)

    def _check(self, child: Child, now: float) -> None:
        if child.finished:
            return
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
            return
        if child.process is None:
            return
        code = child.process.poll()
        if code is None:
            if now - child.started_at > STABLE_AFTER_S:
                child.backoff_s = 0.0
            return
        child.exit_codes.append(code)
        # A child that left its group behind (a crashed leader) must not linger.
        self._signal_group(child, signal.SIGKILL)
        if child.process.stdin is not None:
            child.process.stdin.close()
        if self.on_exit is not None:
            self.on_exit(child, code)
        if code == 0:
            log.info("%s finished", child.name)
            child.finished = True
            return
        child.backoff_s = min(self.backoff_max_s, child.backoff_s * 2 or self.backoff_initial_s)
        child.restart_at = now + child.backoff_s
        log.warning("%s exited with %d; restarting in %.1f s", child.name, code, child.backoff_s)

    @staticmethod
    def _signal_group(child: Child, sig: int) -> None:
        if child.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, sig)

    @staticmethod
    def _close_files(child: Child) -> None:
        if child.process is not None and child.process.stdin is not None:
            child.process.stdin.close()
        if child._log_handle is not None:
            child._log_handle.close()
            child._log_handle = None
