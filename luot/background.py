"""A loop on its own daemon thread, stopped by an event it watches."""

from __future__ import annotations

import threading


class Background:
    """`run()` on a daemon thread named `name`; `stop()` sets `_stop` (which `run` watches,
    and may `wait` on between tries) and waits up to `join_s` for the loop to end."""

    def __init__(self, name: str, join_s: float) -> None:
        self._name = name
        self._join_s = join_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_s)
