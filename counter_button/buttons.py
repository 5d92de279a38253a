"""Leading-edge debounce for the counter's buttons.

Pure: the node's loop feeds it pin edges and the clock, so tests drive it
without hardware and without sleeping (gpiozero's mock pins ignore
`bounce_time`, and real pin libraries differ in how they apply it).
"""

from __future__ import annotations

from collections.abc import Callable


class Debouncer:
    """The first edge counts at once (no added latency); edges within `debounce_s` after it are
    contact bounce. When the quiet time ends the pin is read again, so a release hidden in the
    bounce is not lost."""

    def __init__(self, debounce_s: float, read_pressed: Callable[[], bool]) -> None:
        self.debounce_s = debounce_s
        self._read = read_pressed
        self.pressed = False
        self.settle_at: float | None = None

    def edge(self, pressed: bool, now: float) -> bool | None:
        """An edge from the pin; returns the new debounced level when it changed."""
        if self.settle_at is not None and now < self.settle_at:
            return None
        return self._apply(pressed, now)

    def settle(self, now: float) -> bool | None:
        """At `settle_at`: take the pin's level as it is now."""
        if self.settle_at is None or now < self.settle_at:
            return None
        self.settle_at = None
        return self._apply(self._read(), now)

    def _apply(self, pressed: bool, now: float) -> bool | None:
        if pressed == self.pressed:
            return None
        self.pressed = pressed
        self.settle_at = now + self.debounce_s
        return pressed
