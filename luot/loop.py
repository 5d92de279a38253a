"""The main loop of a device without a screen (a counter box, an LED board node).

It sleeps until an event arrives or the next deadline the device asked for,
handles every queued event, lets the device update its outputs, and pets the
systemd watchdog: one loop, so a hang anywhere in it stops the petting.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from luot.systemd import Notifier

Event = tuple[Any, ...]


def serve_events(
    events: queue.Queue[Event],
    *,
    handle: Callable[[Event, float], None],
    tick: Callable[[float], float | None],
    stopping: threading.Event,
    notifier: Notifier,
    clock: Callable[[], float],
    idle_wake_s: float,
    first_deadline: float | None = None,
) -> None:
    """Run until `stopping` is set. `tick(now)` returns when it next needs to run, or None."""
    deadline = first_deadline
    while not stopping.is_set():
        now = clock()
        wake = min(idle_wake_s, notifier.watchdog_interval or idle_wake_s)
        timeout = wake if deadline is None else min(wake, max(0.0, deadline - now))
        try:
            event: Event | None = events.get(timeout=timeout)
        except queue.Empty:
            event = None
        now = clock()
        while event is not None:
            handle(event, now)
            try:
                event = events.get_nowait()
            except queue.Empty:
                event = None
        deadline = tick(now)
        notifier.pet()
