"""Replies awaited by command id: the sender's thread waits on its own, the MQTT thread hands
each reply over. A HubLink and the city's portal both send commands and wait like this."""

from __future__ import annotations

import threading
from typing import Any


class Awaited:
    """One command's reply to come; `done` with no `reply` means none can come."""

    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] | None = None


class Replies:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._awaited: dict[str, Awaited] = {}

    def expect(self, command_id: str) -> Awaited:
        awaited = Awaited()
        with self._lock:
            self._awaited[command_id] = awaited
        return awaited

    def forget(self, command_id: str) -> None:
        with self._lock:
            self._awaited.pop(command_id, None)

    def answer(self, reply: Any) -> bool:
        """Hand `reply` to whoever awaits its id; False when it names no id."""
        if not isinstance(reply, dict) or not isinstance(reply.get("id"), str):
            return False
        with self._lock:
            awaited = self._awaited.get(reply["id"])
        if awaited is not None:
            awaited.reply = reply
            awaited.done.set()
        return True

    def fail_all(self) -> None:
        """Wake every waiter with no reply: the link dropped."""
        with self._lock:
            awaited = list(self._awaited.values())
        for waiter in awaited:
            waiter.done.set()
