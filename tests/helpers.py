"""Small helpers shared by the tests (imported as `helpers`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from luot.config import device_file

T = TypeVar("T")
DATA = Path(__file__).parent / "data"
SITE_FILE = DATA / "site.toml"


def wait_for(probe: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail the test with `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class FakeClock:
    """A settable clock for the dispatcher: tests walk through hours and days."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += timedelta(**delta)


def write_device_toml(path: Path, *, device_id: str, role: str, site: str, host: str, port: int,
                      password: str, extra: str = "") -> Path:
    broker = {"host": host, "port": port, "password": password, "keepalive": 5}
    path.write_text(device_file(device_id, role, site, broker, role_table=extra), encoding="utf-8")
    return path
