"""Run a private Mosquitto with the project's generated configuration.

Used by the test fixtures, the benchmarks and `luot demo`: a broker on a free
loopback port, authentication and ACL on, never the machine's own broker.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from broker_config import Bridge, Listener, new_password, write_broker_files
from luot.config import BrokerSettings, device_file
from testbed.supervisor import stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(host: str, port: int, deadline: float, step: float, exited: Callable[[], str | None]) -> bool:
    """Whether a server we started listens on host:port before `deadline` (time.monotonic);
    `exited` says why the server is gone, if it is, and that is raised at once."""
    while time.monotonic() < deadline:
        gone = exited()
        if gone is not None:
            raise RuntimeError(gone)
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(step)
    return False


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
    return found


class Mosquitto:
    """A broker process for one site, with a user per device of the inventory."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path, site: str, roles: dict[str, str], *,
                 port: int | None = None, persistence: bool = True, bridge: Bridge | None = None,
                 extra_listeners: tuple[Listener, ...] = (), max_queued_messages: int = 5000,
                 updaters: dict[str, tuple[str, ...]] | None = None) -> None:
        self.workdir = workdir
        self.site = site
        self.roles = dict(roles)
        self.passwords = {user: new_password() for user in roles}
        self.port = port or free_port()
        self.hub_port = free_port()  # the hub's own listener: client ids not bound to users
        self.persistence_dir = workdir / "data" if persistence else None
        self.log_file = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        if self.persistence_dir is not None:
            self.persistence_dir.mkdir(parents=True, exist_ok=True)
        self.files = write_broker_files(
            workdir,
            site=site,
            passwords=self.passwords,
            roles=self.roles,
            updaters=updaters,
            listeners=[Listener(self.port, self.host),
                       Listener(self.hub_port, self.host, bind_client_ids=False), *extra_listeners],
            persistence_dir=self.persistence_dir,
            run_as_user=getpass.getuser(),
            log_dest=f"file {self.log_file}",
            bridge=bridge,
            max_queued_messages=max_queued_messages,
        )

    def settings(self, user: str, password: str | None = None) -> BrokerSettings:
        return BrokerSettings(
            host=self.host,
            port=self.hub_port if self.roles.get(user) == "hub" else self.port,
            username=user,
            password=self.passwords[user] if password is None else password,
            keepalive=5,
        )

    def write_device_file(self, path: Path, device_id: str, role_table: str = "", *,
                          log_level: str | None = None, port: int | None = None) -> Path:
        """A device.toml for `device_id` on this broker, with its credentials (mode 0600);
        `port`: reach the broker through another port, such as a drill's cuttable proxy."""
        settings = self.settings(device_id)
        broker = {"host": settings.host, "port": port or settings.port, "password": settings.password,
                  "keepalive": settings.keepalive}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(device_file(device_id, self.roles[device_id], self.site, broker, log_level=log_level,
                                    role_table=role_table), encoding="utf-8")
        path.chmod(0o600)
        return path

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.files.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if not listening(self.host, self.port, time.monotonic() + timeout, 0.01, self._exited):
            raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def _exited(self) -> str | None:
        if self.process is None or self.process.poll() is None:
            return None
        err = self.process.stderr.read().decode() if self.process.stderr else ""
        log = self.log_file.read_text() if self.log_file.exists() else ""
        return f"mosquitto exited at start: {err}{log}"

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=5)
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()
