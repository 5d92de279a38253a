"""The emulated Pis' retained device topics, as pi-test's checks read them off the hub's broker."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from luot.config import BrokerSettings
from luot.mqtt import make_paho_client, unique_client_id

T = TypeVar("T")


class DeviceWatch(Generic[T]):
    """The latest payload of every device on one retained `device/+/<kind>` topic, parsed, by
    device id; a check polls `latest` until what it waits for is there."""

    def __init__(self, settings: BrokerSettings, topic: str, parse: Callable[[bytes], T],
                 purpose: str) -> None:
        self.latest: dict[str, T] = {}
        self._client = make_paho_client(settings, unique_client_id(settings.username, purpose))
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._client.on_message = lambda _c, _u, m: self.latest.__setitem__(
            m.topic.split("/")[-2], parse(m.payload))
        self._client.connect_async(settings.host, settings.port)
        self._client.loop_start()

    def __enter__(self) -> DeviceWatch[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._client.loop_stop()
        self._client.disconnect()
