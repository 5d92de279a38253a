"""What the officer's presses and holds ask for: a counter op, a transfer choice, a rating.

Apart from `counter_button.node` so the meaning of each button reads on its own.
`CounterNode` inherits `Presses`: its loop feeds debounced levels to `_transition`
and due holds and transfer windows to `_click` and `_commit_transfer`; what a press
asks for goes out through the node's `_command`, `_ack`, `_fail` and `_outcome`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from counter_button.buttons import Debouncer
from counter_button.settings import CounterSettings
from luot import protocol as p
from luot.mqtt import HubLink

log = logging.getLogger(__name__)

# What a short press and a hold of each officer button do.
PRESS_OPS = {"next": "next", "recall": "recall", "noshow": "noshow"}
HOLD_OPS = {"next": "done", "recall": "requeue"}


@dataclass
class _Button:
    name: str
    debouncer: Debouncer
    holdable: bool
    down_at: float | None = None
    hold_fired: bool = False


class Presses:
    """The button half of the counter node; the state it reads is set up by `CounterNode`."""

    settings: CounterSettings
    link: HubLink
    state_topic: str
    buttons: dict[str, _Button]
    _transfer_presses: int
    _transfer_at: float | None
    _finished: tuple[int, float] | None
    _rated: set[int]

    def _edge(self, name: str, pressed: bool, at: float) -> None:
        button = self.buttons.get(name)
        if button is None:
            return
        changed = button.debouncer.edge(pressed, at)
        if changed is not None:
            self._transition(button, changed, at)

    def _transition(self, button: _Button, pressed: bool, now: float) -> None:
        log.debug("%s %s", button.name, "down" if pressed else "up")
        if pressed:
            button.down_at, button.hold_fired = now, False
            return
        if button.down_at is not None and not button.hold_fired:
            self._click(button.name, held=False, now=now)
        button.down_at = None

    def _click(self, name: str, *, held: bool, now: float) -> None:
        log.debug("%s %s", "hold" if held else "press", name)
        if name.startswith("rate"):
            self._rate(int(name[4:]) - 1, now)
            return
        if name == "transfer":
            self._transfer_presses += 1
            self._transfer_at = now + self.settings.transfer_window_s
            self._ack(now)
            self._outcome(f"transfer choice {self._transfer_presses}")
            return
        if name == "pause":
            paused = (self.link.state(self.state_topic) or {}).get("status") == "paused"
            self._command("resume" if paused else "pause", now)
            return
        self._command(HOLD_OPS[name] if held else PRESS_OPS[name], now)

    def _commit_transfer(self, now: float) -> None:
        presses, self._transfer_presses, self._transfer_at = self._transfer_presses, 0, None
        services = [s["code"] for s in (self.link.state(p.CONFIG) or {}).get("services", [])]
        if not 1 <= presses <= len(services):
            self._fail("transfer", "bad_choice", f"{presses} presses; the site has {len(services)} services",
                       now)
            return
        self._command("transfer", now, service=services[presses - 1])

    def _rate(self, index: int, now: float) -> None:
        rating = self.settings.rating
        assert rating is not None
        ticket = self._rating_target(now)
        if ticket is None:
            self._outcome("ignored rate: no citizen to rate")
            return
        self._command("rate", now, ticket=ticket, score=rating.scores[index])

    def _rating_target(self, now: float) -> int | None:
        """The citizen who just finished (within the window), else the one being served."""
        rating = self.settings.rating
        assert rating is not None
        finished = self._finished
        if finished and now - finished[1] <= rating.window_s and finished[0] not in self._rated:
            return finished[0]
        current = self._current_ticket()
        return current if current is not None and current not in self._rated else None
