"""The status light as a function of time.

Pure: the node's loop feeds it the clock and writes what it says, so tests
drive it without hardware and without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable

# name → (on seconds, off seconds); None is a steady level.
PATTERNS: dict[str, tuple[float, float] | None] = {
    "off": None,
    "steady": None,
    "slow": (1.0, 1.0),
    "fast": (0.1, 0.1),
}
FLASH_S = 0.15


class Light:
    """Steady while the counter is open, slow blink when paused, fast blink when the hub is away
    or a press failed; each accepted press inverts the light for FLASH_S."""

    def __init__(self, write: Callable[[bool], None]) -> None:
        self._write = write
        self.pattern = "off"
        self._since = 0.0
        self._flash_until = 0.0
        self._level: bool | None = None

    def set(self, pattern: str, now: float) -> None:
        if pattern not in PATTERNS:
            raise ValueError(f"no light pattern {pattern!r}")
        if pattern != self.pattern:
            self.pattern = pattern
            self._since = now

    def flash(self, now: float) -> None:
        self._flash_until = now + FLASH_S

    def _base(self, now: float) -> bool:
        timing = PATTERNS[self.pattern]
        if timing is None:
            return self.pattern == "steady"
        on, off = timing
        return (now - self._since) % (on + off) < on

    def level(self, now: float) -> bool:
        base = self._base(now)
        return not base if now < self._flash_until else base

    def update(self, now: float) -> float | None:
        """Write the level for `now`; return when it next changes (None: not by itself)."""
        level = self.level(now)
        if level != self._level:
            self._level = level
            self._write(level)
        deadlines = [self._flash_until] if now < self._flash_until else []
        timing = PATTERNS[self.pattern]
        if timing is not None:
            on, off = timing
            phase = (now - self._since) % (on + off)
            deadlines.append(now + (on - phase if phase < on else on + off - phase))
        return min(deadlines) if deadlines else None
