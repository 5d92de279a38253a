"""systemd's notify protocol (Type=notify, WatchdogSec=) without a dependency.

Outside systemd (no NOTIFY_SOCKET) every call is a no-op, so the same code
runs on a laptop, in tests and on a Pi.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    """Tells systemd when the service is ready and pets its watchdog from the main loop."""

    def __init__(self, socket_path: str | None = None) -> None:
        path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
        if path.startswith("@"):
            path = "\0" + path[1:]
        self._address = path or None
        usec = os.environ.get("WATCHDOG_USEC", "")
        watchdog_pid = os.environ.get("WATCHDOG_PID", "")
        enabled = usec.isdigit() and (not watchdog_pid or watchdog_pid == str(os.getpid()))
        # Pet twice per watchdog period, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval = int(usec) / 2e6 if enabled else None
        self._last_pet = 0.0

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, message: str) -> None:
        if self._address is None:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(self._address)
            sock.sendall(message.encode())

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def pet(self) -> None:
        """WATCHDOG=1 twice per period; call it from the loop that must not hang, at least that often."""
        if self.watchdog_interval is None:
            return
        now = time.monotonic()
        if now - self._last_pet >= self.watchdog_interval:
            self._last_pet = now
            self.notify("WATCHDOG=1")
