"""The counter node's loop: presses in, commands out, the light and the board from retained state.

One thread owns all state. gpiozero edges, MQTT messages and replies arrive
as events on a queue; a second thread sends one command at a time, so a
press while a command is in flight is ignored instead of being replayed
later with a stale view. Every counter op carries `expect` (the ticket in the
retained `state/counter/<n>`), so the dispatcher refuses a press made against
an outdated number and never skips a citizen. Nothing the dispatcher owns is
kept here: the board and the light are computed from the retained state.
What each press and hold asks for is in `counter_button.presses`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import luot
from counter_button.buttons import Debouncer
from counter_button.light import Light
from counter_button.presses import HOLD_OPS, Presses, _Button
from counter_button.settings import BUTTONS, CounterSettings
from luot import protocol as p
from luot.ledboard import BLANK, BLINK_S, DASHES, Board, blinking
from luot.loop import EventLoop
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger(__name__)

EXPECTING_OPS = frozenset({"next", "recall", "noshow", "done", "requeue", "transfer"})
HEALTH_EVERY_S = 60.0
STATE_CATCH_UP_S = 1.0
IDLE_WAKE_S = 5.0


class CounterNode(Presses, EventLoop):
    def __init__(
        self,
        settings: CounterSettings,
        link: HubLink,
        *,
        light_write: Callable[[bool], None],
        read_pressed: Callable[[str], bool],
        board: Board | None = None,
        beep: Callable[[int, float], None] | None = None,
        on_outcome: Callable[[str], None] | None = None,
        notifier: Notifier | None = None,
        update: UpdateHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(notifier, clock)
        self.settings = settings
        self.update = update or UpdateHooks(None)
        self.number = settings.number
        self.link = link
        self.board = board
        self.light = Light(light_write)
        self._beep = beep
        self._on_outcome = on_outcome
        self.state_topic = p.counter_state(settings.number)
        names = list(BUTTONS)
        if settings.rating:
            names += [f"rate{i + 1}" for i in range(len(settings.rating.pins))]
        self.buttons = {
            name: _Button(name, Debouncer(settings.debounce_s, lambda n=name: read_pressed(n)),
                          holdable=name in HOLD_OPS)
            for name in names
        }
        self._commands: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self.inflight: str | None = None
        self._catch_up: tuple[dict[str, Any], float] | None = None
        self.state: dict[str, Any] | None = None
        self.config_error: str | None = None
        self._error_until = 0.0
        self._transfer_presses = 0
        self._transfer_at: float | None = None
        self._blink_from = -BLINK_S
        self._board_status: str | None = None
        self._health_at = 0.0
        self._finished: tuple[int, float] | None = None
        self._rated: set[int] = set()
        link.add_handler(self._on_message)
        link.add_connection_handler(self._on_connection)
        link.add_hub_handler(self._on_connection)  # the dispatcher's own online/offline

    # ------------------------------------------------------------------ from other threads

    def edge(self, name: str, pressed: bool) -> None:
        """A pin changed (gpiozero's thread)."""
        self._events.put(("edge", name, pressed, self.clock()))

    def _on_message(self, topic: str, payload: Any, _retained: bool) -> None:
        if topic in (self.state_topic, p.CONFIG):
            self._events.put(("message", topic, payload))

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        """Until `stop()`: handle events, drive the light and the board."""
        sender = threading.Thread(target=self._send_commands, name="counter-commands", daemon=True)
        sender.start()
        now = self.clock()
        self._take_config(self.link.state(p.CONFIG))
        self._take_state(self.link.state(self.state_topic), now, initial=True)
        self.notifier.ready(f"counter {self.number}")
        self._serve(IDLE_WAKE_S, first_deadline=now)
        self._commands.put(None)
        sender.join(timeout=5)
        self.notifier.stopping()

    def _handle(self, event: tuple[Any, ...], now: float) -> None:
        kind = event[0]
        if kind == "edge":
            self._edge(event[1], event[2], event[3])
        elif kind == "message":
            if event[1] == p.CONFIG:
                self._take_config(event[2])
            else:
                self._take_state(event[2], now)
        elif kind == "link":
            self._outcome("link up" if event[1] else "link down")
            if event[1]:
                self._take_state(self.link.state(self.state_topic), now, initial=True)
        elif kind == "reply":
            self._reply(event[1], event[2], event[3], event[4], now)

    def _tick(self, now: float) -> float | None:
        """Run what is due; return the next moment something is due."""
        deadlines: list[float | None] = []
        for button in self.buttons.values():
            changed = button.debouncer.settle(now)
            if changed is not None:
                self._transition(button, changed, now)
            deadlines.append(button.debouncer.settle_at)
            if button.down_at is not None and button.holdable and not button.hold_fired:
                hold_at = button.down_at + self.settings.hold_s
                if now >= hold_at:
                    button.hold_fired = True
                    self._click(button.name, held=True, now=now)
                else:
                    deadlines.append(hold_at)
        if self._transfer_at is not None:
            if now >= self._transfer_at:
                self._commit_transfer(now)
            else:
                deadlines.append(self._transfer_at)
        if self._catch_up is not None:
            # The retained copy arrives as a message event, which wakes the loop.
            expected, until = self._catch_up
            if self.link.state(self.state_topic) == expected or now >= until:
                self._catch_up = None
                self.inflight = None
            else:
                deadlines.append(until)
        pattern = self._light_pattern(now)
        if pattern != self.light.pattern:
            self._outcome(f"light {pattern}")
        self.light.set(pattern, now)
        deadlines.append(self.light.update(now))
        if self._error_until > now:
            deadlines.append(self._error_until)
        deadlines.append(self._update_board(now))
        deadlines.append(self._update_health(now))
        self._follow_update()
        return min((d for d in deadlines if d is not None), default=None)

    # ------------------------------------------------------------------ commands

    def _current_ticket(self) -> int | None:
        ticket = (self.link.state(self.state_topic) or {}).get("ticket")
        return ticket["id"] if ticket else None

    def _follow_update(self) -> None:
        """Up once the hub's state is here; held for an update only between citizens (serving
        nobody, no press in flight or held down), so a restart never cuts a call."""
        if self.state is not None and self.link.connected:
            self.update.ready()
        wanted = self.update.hold_asked()
        between = (self.inflight is None and self._transfer_at is None
                   and not (self.state or {}).get("ticket")
                   and all(b.down_at is None for b in self.buttons.values()))
        if wanted and between and not self.update.held:
            self._outcome("held for an update")
        self.update.hold(wanted and (self.update.held or between))

    def _command(self, op: str, now: float, **fields: Any) -> None:
        if self.inflight is not None:
            self._outcome(f"ignored {op}: {self.inflight} is still in flight")
            return
        if self.update.held:  # refused now, so it can never take effect after the restart
            self._fail(op, "updating", "the counter is restarting for an update", now)
            return
        if self.config_error:
            self._fail(op, "config", self.config_error, now)
            return
        if not self.link.connected:
            self._fail(op, "hub_unreachable", "not connected to the hub", now)
            return
        fields["counter"] = self.number
        if op in EXPECTING_OPS:
            fields["expect"] = self._current_ticket()
        self.inflight = op
        self._commands.put((op, fields))

    def _send_commands(self) -> None:
        while (job := self._commands.get()) is not None:
            op, fields = job
            try:
                reply = self.link.request(op, **fields)
            except (HubUnreachable, HubTimeout, CommandRefused) as e:
                self._events.put(("reply", op, fields, None, e))
            else:
                self._events.put(("reply", op, fields, reply, None))

    def _reply(self, op: str, fields: dict[str, Any], reply: dict[str, Any] | None,
               error: Exception | None, now: float) -> None:
        if reply is None:
            self.inflight = None
            code = error.code if isinstance(error, CommandRefused) else (
                "hub_timeout" if isinstance(error, HubTimeout) else "hub_unreachable")
            if op == "rate":
                self._outcome(f"error rate {code}: {error}")
                return
            self._fail(op, code, str(error), now)
            return
        if op in ("next", "done") and fields.get("expect") is not None:
            self._finished = (fields["expect"], now)
        if op == "rate":
            self._rated.add(fields["ticket"])
        self._ack(now)
        ticket = reply.get("ticket")
        self._outcome(f"ok {op} {ticket['number'] if ticket else '-'}")
        state = reply.get("state")
        if state is None:
            self.inflight = None
        else:
            # The reply carries the dispatcher's new state of this counter: the board shows it
            # now, without waiting for the retained copy that follows.
            self._take_state(state, now)
            self._catch_up = (state, now + STATE_CATCH_UP_S)

    def _ack(self, now: float) -> None:
        self.light.flash(now)
        if self._beep:
            self._beep(1, 0.05)

    def _fail(self, op: str, code: str, detail: str, now: float) -> None:
        log.warning("%s refused: %s: %s", op, code, detail)
        self._outcome(f"error {op} {code}: {detail}")
        self._error_until = now + self.settings.error_s
        if self._beep:
            self._beep(3, 0.1)

    def _outcome(self, line: str) -> None:
        if self._on_outcome:
            self._on_outcome(line)
        else:
            log.info("%s", line)

    # ------------------------------------------------------------------ retained state

    def _take_config(self, config: Any) -> None:
        if not isinstance(config, dict):
            return
        numbers = [c.get("number") for c in config.get("counters", [])]
        error = None if self.number in numbers else (
            f"counter {self.number} is not in the site's counters {numbers}")
        if error and error != self.config_error:
            log.error("%s: check [counter] number in device.toml", error)
        self.config_error = error

    def _take_state(self, state: Any, now: float, *, initial: bool = False) -> None:
        if not isinstance(state, dict):
            return
        previous = self.state
        self.state = state
        if (not initial and previous is not None and state.get("ticket")
                and state.get("call_seq", 0) > previous.get("call_seq", 0)):
            self._blink_from = now

    def _light_pattern(self, now: float) -> str:
        state = self.link.state(self.state_topic)
        if not self.link.hub_online or state is None or self.config_error or now < self._error_until:
            return "fast"
        return "slow" if state.get("status") == "paused" else "steady"

    # ------------------------------------------------------------------ board and health

    def board_text(self, now: float) -> tuple[str, float | None]:
        """What the board shows now, and when that changes by itself (a blink)."""
        state = self.state
        if not self.link.connected or state is None or state.get("status") == "paused":
            return DASHES, None
        ticket = state.get("ticket")
        if not ticket:
            return BLANK, None
        return blinking(str(ticket["number"]), self._blink_from, now)

    def _update_board(self, now: float) -> float | None:
        if self.board is None:
            return None
        text, change = self.board_text(now)
        wrote, again = self.board.keep(text, now)
        if wrote:
            self._outcome(f"board {text or 'blank'}")
        return min(again, change) if change is not None else again

    def health(self) -> dict[str, Any]:
        return {
            "role": "counter",
            "version": luot.__version__,
            "counter": self.number,
            "config_error": self.config_error,
            "board": self.board.health() if self.board else None,
        }

    def _update_health(self, now: float) -> float:
        status = self.board.status if self.board else None
        if status != self._board_status or now - self._health_at >= HEALTH_EVERY_S:
            self._board_status = status
            self._health_at = now
            self.link.publish_health(self.health())
        return self._health_at + HEALTH_EVERY_S
