"""Small helpers shared by the tests (imported as `helpers`)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from luot import protocol as p
from luot.config import device_file
from luot.mqtt import make_paho_client, unique_client_id

T = TypeVar("T")
DATA = Path(__file__).parent / "data"
SITE_FILE = DATA / "site.toml"
# The web service's logins in the tests (their hashes are written by the `web_users` fixture).
WEB_PASSWORDS = {"admin": "leader-pass-1", "counter-2": "officer-pass-2", "counter-3": "officer-pass-3"}


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


class RawDevice:
    """A device that sends bytes of its own choosing, to test the dispatcher's defences."""

    def __init__(self, broker, site, device_id):
        self.topics = p.Topics(site.id)
        self.device_id = device_id
        self.replies: list[dict] = []
        self.client = make_paho_client(broker.settings(device_id), unique_client_id(device_id, "raw"))
        ready = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(self.topics.reply(device_id), qos=1)
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_message = lambda _c, _u, msg: self.replies.append(p.decode(msg.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert ready.wait(5)

    def send(self, payload: bytes, correlation: bytes | None = None, *, retain: bool = False) -> None:
        props = Properties(PacketTypes.PUBLISH)
        if correlation:
            props.CorrelationData = correlation
        self.client.publish(self.topics.cmd(self.device_id), payload, qos=1, retain=retain,
                            properties=props).wait_for_publish(5)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def reaped(process: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """A child process that is killed and waited for if the test stops before it has exited."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
