"""The main loop of a device without a screen (a counter box, an LED board node).

It sleeps until an event arrives or the next deadline the device asked for,
handles every queued event, lets the device update its outputs, and pets the
systemd watchdog: one loop, so a hang anywhere in it stops the petting.
"""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from luot.systemd import Notifier

Event = tuple[Any, ...]


class EventLoop(ABC):
    """One thread owns the device's state; other threads (pins, MQTT, signals) only queue events."""

    def __init__(self, notifier: Notifier | None, clock: Callable[[], float]) -> None:
        self.notifier = notifier or Notifier()
        self.clock = clock
        self._events: queue.Queue[Event] = queue.Queue()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._events.put(("stop",))

    def _on_connection(self, up: bool) -> None:
        self._events.put(("link", up))

    @abstractmethod
    def _handle(self, event: Event, now: float) -> None: ...

    @abstractmethod
    def _tick(self, now: float) -> float | None:
        """Update the outputs; when to run again (None: at the next event or idle wake)."""

    def _serve(self, idle_wake_s: float, first_deadline: float | None = None) -> None:
        """Run until `stop()`."""
        deadline = first_deadline
        while not self._stopping.is_set():
            now = self.clock()
            wake = min(idle_wake_s, self.notifier.watchdog_interval or idle_wake_s)
            timeout = wake if deadline is None else min(wake, max(0.0, deadline - now))
            try:
                event: Event | None = self._events.get(timeout=timeout)
            except queue.Empty:
                event = None
            now = self.clock()
            while event is not None:
                self._handle(event, now)
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            deadline = self._tick(now)
            self.notifier.pet()
