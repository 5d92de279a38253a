"""`luot counter --keys`: the real node on gpiozero's mock pins, driven by lines on stdin.

Each line presses a mock pin, so a keyboard press runs the same code as a
finger on a real button (debounce, holds, transfer counting, commands).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from counter_button.hardware import Hardware
from counter_button.settings import BUTTONS, CounterSettings

PRESS_S = 0.08
LINES = {
    "next": ("next", False),
    "recall": ("recall", False),
    "noshow": ("noshow", False),
    "transfer": ("transfer", False),
    "pause": ("pause", False),
    "done": ("next", True),
    "requeue": ("recall", True),
}
HELP = (
    "lines: next | recall | noshow | transfer | pause | done (hold NEXT) | requeue (hold RECALL) | "
    "hold <button> | rate <1-5> | help | quit"
)


class KeyDriver:
    def __init__(self, settings: CounterSettings, hardware: Hardware, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.hardware = hardware
        self.say = say

    def press(self, button: str, *, hold: bool = False) -> None:
        pin = self.hardware.pin(button)
        down, up = pin.drive_low, pin.drive_high
        if not self.settings.pull_up:
            down, up = up, down
        down()
        time.sleep(self.settings.hold_s + 0.2 if hold else PRESS_S)
        up()
        time.sleep(PRESS_S)

    def line(self, text: str) -> bool:
        """Act on one line; False when it asks to quit."""
        words = text.strip().lower().split()
        if not words:
            return True
        if words[0] in ("quit", "exit"):
            return False
        if words[0] == "help":
            self.say(HELP)
        elif len(words) == 1 and words[0] in LINES:
            button, hold = LINES[words[0]]
            self.press(button, hold=hold)
        elif len(words) == 2 and words[0] == "hold" and words[1] in BUTTONS:
            self.press(words[1], hold=True)
        elif len(words) == 2 and words[0] == "rate":
            self._rate(words[1])
        else:
            self.say(f"error unknown line {text.strip()!r}; {HELP}")
        return True

    def _rate(self, word: str) -> None:
        rating = self.settings.rating
        if rating is None:
            self.say("error rate: this counter has no rating buttons")
            return
        if not word.isdigit() or int(word) not in rating.scores:
            self.say(f"error rate: the score is one of {', '.join(map(str, rating.scores))}")
            return
        self.press(f"rate{rating.scores.index(int(word)) + 1}")

    def run(self, stream: TextIO) -> None:
        for text in stream:
            if not self.line(text):
                return
