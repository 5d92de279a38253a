"""The notify protocol against a local AF_UNIX datagram socket standing in for systemd's.

A stand-in supervisor does what systemd does with Type=notify, WatchdogSec= and
Restart=always: it waits for READY=1, kills the service (SIGABRT) when no WATCHDOG=1
arrives within the watchdog period, and starts it again.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from luot.systemd import Notifier

ROOT = Path(__file__).resolve().parent.parent
WATCHDOG_S = 1.0  # pets every 0.5 s; generous so a loaded machine does not trip it early

# A service whose main loop pets the watchdog, then hangs (blocked forever) after a while.
SERVICE = textwrap.dedent("""
    import sys, threading, time
    from luot.systemd import Notifier
    notifier = Notifier()
    notifier.ready("serving")
    hang_at = time.monotonic() + float(sys.argv[1])
    while True:
        notifier.pet()
        if time.monotonic() > hang_at:
            notifier.status("hanging")
            threading.Event().wait()
        time.sleep(0.01)
""")


class FakeSystemd:
    """The manager's end of NOTIFY_SOCKET, with its watchdog and restart rule."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.log: list[tuple[int, float, str]] = []  # (instance, time, message)
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, hang_after_s: float) -> subprocess.Popen[bytes]:
        env = dict(os.environ, NOTIFY_SOCKET=self.path, WATCHDOG_USEC=str(int(WATCHDOG_S * 1e6)),
                   PYTHONPATH=str(ROOT))
        process = subprocess.Popen([sys.executable, "-c", SERVICE, str(hang_after_s)], env=env)
        self.processes.append(process)
        return process

    def receive(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None

    def supervise(self, instance: int, *, ready_timeout: float = 10.0) -> bool:
        """Run one instance until its watchdog fires (True) or it exits on its own (False)."""
        message = self.receive(ready_timeout)
        assert message is not None and message.startswith("READY=1"), f"instance {instance}: {message!r}"
        self.log.append((instance, time.monotonic(), message))
        while True:
            message = self.receive(WATCHDOG_S)
            if message is None:
                self.processes[-1].send_signal(signal.SIGABRT)
                self.processes[-1].wait(5)
                return True
            self.log.append((instance, time.monotonic(), message))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path):
    manager = FakeSystemd(tmp_path)
    yield manager
    manager.close()


def test_a_hung_main_loop_stops_petting_and_is_restarted(systemd: FakeSystemd) -> None:
    first = systemd.start(hang_after_s=2.2)
    assert systemd.supervise(1)
    assert first.returncode == -signal.SIGABRT
    ours = [m for i, _t, m in systemd.log if i == 1]
    assert ours[0] == "READY=1\nSTATUS=serving"
    assert ours[-1] == "STATUS=hanging", "killed only after the loop hung, and no pet after it"
    assert set(ours[1:-1]) == {"WATCHDOG=1"} and len(ours[1:-1]) >= 3, "pets twice per period while it runs"

    systemd.start(hang_after_s=60)  # Restart=always: the next instance comes up and is ready
    message = systemd.receive(10)
    assert message is not None and message.startswith("READY=1")


def test_outside_systemd_every_call_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    assert not notifier.enabled and notifier.watchdog_interval is None
    notifier.ready()
    notifier.pet()
    notifier.stopping()


def test_the_watchdog_is_only_for_the_process_systemd_named(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert Notifier(str(tmp_path / "s")).watchdog_interval is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert Notifier(str(tmp_path / "s")).watchdog_interval == 1.0


def test_abstract_socket_names_and_status_messages(tmp_path: Path) -> None:
    name = f"luot-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier = Notifier("@" + name)
        notifier.status("Đang phục vụ")
        notifier.stopping()
        assert sock.recv(100).decode() == "STATUS=Đang phục vụ"
        assert sock.recv(100) == b"STOPPING=1"
