"""The hallway LED board: the last calls (number and counter) on serial LED boards.

`[display] kind = "led"` runs this instead of the TV. One bus (a USB-RS485
adapter) carries one board per row. A row without a `counter` shows the
latest calls, newest on the first such row ("A023 05": number, counter); a
row with `counter = N` always shows counter N's current number (the only
kind of row a numeric Modbus board can show). A new call blinks its row.
Everything comes from the retained `state/counter/<n>` and `event/call`, so a
restarted board or a reconnect shows the right numbers at once.

    [display]
    kind = "led"
    counters = [1, 2, 3]        # optional: only these counters

    [display.led]
    port = "/dev/ttyUSB0"
    protocol = "ascii"          # or "modbus"; see luot/ledboard
    width = 7                   # ascii: characters per row

    [[display.led.rows]]
    address = 1
    [[display.led.rows]]
    address = 2
    [[display.led.rows]]
    address = 9
    counter = 5
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import luot
from luot import protocol as p
from luot.config import ConfigError, DeviceConfig, Section, counter_number
from luot.ledboard import BLANK, DASHES, Board, BusConfig, LedBus, blinking, check_unique_addresses
from luot.ledboard.ascii import AsciiBoard
from luot.logs import setup_logging
from luot.loop import EventLoop
from luot.mqtt import HubLink
from luot.role import on_stop
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger(__name__)

IDLE_WAKE_S = 5.0
HEALTH_EVERY_S = 60.0
NEVER = -1e9  # the call time of a number learnt from retained state: it does not blink


@dataclass(frozen=True)
class Row:
    address: int
    counter: int | None


@dataclass(frozen=True)
class LedDisplaySettings:
    bus: BusConfig
    rows: tuple[Row, ...]
    counters: frozenset[int] | None


def led_settings(device: DeviceConfig) -> LedDisplaySettings:
    """`[display]` with `kind = "led"`, every key checked."""
    with device.role_section() as section:
        return _read_led(section, device.file)


def _read_led(section: Section, file: str) -> LedDisplaySettings:
    section.str("kind", choices=("led",))
    counters = section.list("counters", counter_number(file), None)
    led = section.section("led", required=True)
    bus = BusConfig.from_section(led)
    rows: list[Row] = []
    for r in led.sections("rows", required=True):
        counter = r.int("counter", None, min=1, max=999)
        if counter is None and not isinstance(bus.protocol, AsciiBoard):
            raise r.error("counter", f"a {bus.protocol.name} board shows digits only, so each row needs the "
                                     "counter it shows (counter = N)")
        rows.append(Row(bus.address(r), counter))
    if not rows:
        raise led.error("rows", "at least one [[display.led.rows]] is needed")
    check_unique_addresses(led, "rows", [row.address for row in rows])
    last_calls = any(r.counter is None for r in rows)
    if isinstance(bus.protocol, AsciiBoard) and last_calls and bus.protocol.width < 7:
        raise led.error("width", f"rows of the last calls show \"A023 05\": width must be at least 7, "
                                 f"got {bus.protocol.width}")
    return LedDisplaySettings(bus, tuple(rows), frozenset(counters) if counters else None)


@dataclass
class _Call:
    number: str
    seq: int
    at: float


class LedHallBoard(EventLoop):
    """The loop: retained state and call events in, rows out, health reported."""

    def __init__(self, settings: LedDisplaySettings, link: HubLink, boards: list[Board], *,
                 notifier: Notifier | None = None, update: UpdateHooks | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(notifier, clock)
        self.settings = settings
        self.link = link
        self.update = update or UpdateHooks(None)
        self.boards = boards
        self.calls: dict[int, _Call] = {}
        self._statuses: list[str] = []
        self._health_at = 0.0
        link.add_handler(self._on_message)
        link.add_connection_handler(self._on_connection)
        link.add_hub_handler(lambda online: self._events.put(("hub", online)))

    def _shown(self, counter: Any) -> bool:
        wanted = self.settings.counters
        return isinstance(counter, int) and (wanted is None or counter in wanted)

    def _on_message(self, topic: str, payload: Any, _retained: bool) -> None:
        if topic.startswith(p.COUNTER_STATES) or topic == p.CALL_EVENT:
            self._events.put(("message", topic, payload))

    def run(self) -> None:
        self._resync()
        self.notifier.ready(f"LED board, {len(self.boards)} rows")
        self._serve(IDLE_WAKE_S)
        self.notifier.stopping()

    def _handle(self, event: tuple[Any, ...], now: float) -> None:
        if event[0] in ("link", "hub") and event[1]:  # the broker, or the dispatcher, back
            self._resync()
        elif event[0] == "message" and isinstance(event[2], dict):
            if event[1] == p.CALL_EVENT:
                self._take_call(event[2], now)
            else:
                self._take_state(event[2])

    def _resync(self) -> None:
        """From the retained counter states: who is being served now, in call order."""
        self.calls.clear()
        for state in self.link.states(p.COUNTER_STATES).values():
            self._take_state(state)

    def _take_state(self, state: dict[str, Any]) -> None:
        counter = state.get("counter")
        if not self._shown(counter):
            return
        ticket = state.get("ticket")
        if not ticket or state.get("status") != "serving":
            self.calls.pop(counter, None)
            return
        known = self.calls.get(counter)
        if known is None or known.number != ticket["number"]:
            self.calls[counter] = _Call(str(ticket["number"]), int(state.get("call_seq") or 0), NEVER)

    def _take_call(self, call: dict[str, Any], now: float) -> None:
        counter = call.get("counter")
        ticket = call.get("ticket")
        if not self._shown(counter) or not isinstance(ticket, dict):
            return
        seq = int(call.get("seq") or 0)
        known = self.calls.get(counter)
        # The dispatcher publishes the counter's state just before the call event: the same
        # sequence number, learnt from the state, has not blinked yet.
        if known is None or seq > known.seq or (seq == known.seq and known.at == NEVER):
            self.calls[counter] = _Call(str(ticket["number"]), seq, now)

    def row_texts(self, now: float) -> list[tuple[str, float | None]]:
        """What each row shows now, and when that changes by itself (a blink)."""
        if not self.link.hub_online:  # the broker or the dispatcher away: no number is live
            return [(DASHES, None)] * len(self.boards)
        latest = sorted(self.calls.items(), key=lambda item: item[1].seq, reverse=True)
        free = iter(latest)
        texts: list[tuple[str, float | None]] = []
        for row in self.settings.rows:
            if row.counter is not None:
                call = self.calls.get(row.counter)
                texts.append(blinking(call.number, call.at, now) if call else (BLANK, None))
                continue
            counter, call = next(free, (None, None))
            if call is None:
                texts.append((BLANK, None))
            else:
                texts.append(blinking(f"{call.number} {counter:02d}", call.at, now))
        return texts

    def _tick(self, now: float) -> float | None:
        deadlines: list[float] = []
        for board, (text, change) in zip(self.boards, self.row_texts(now), strict=True):
            _, again = board.keep(text, now)
            deadlines.append(again)
            if change is not None:
                deadlines.append(change)
        statuses = [b.status for b in self.boards]
        if statuses != self._statuses or now - self._health_at >= HEALTH_EVERY_S:
            self._statuses = statuses
            self._health_at = now
            self.link.publish_health(
                {"kind": "led", "version": luot.__version__, "boards": [b.health() for b in self.boards]}
            )
        deadlines.append(self._health_at + HEALTH_EVERY_S)
        # No voice to cut: held as soon as asked; a restart shows the counters' retained numbers.
        if self.link.connected and self.link.state(p.CONFIG) is not None:
            self.update.ready()
        self.update.hold(self.update.hold_asked())
        return min(deadlines)


def main_led(device: DeviceConfig) -> int:
    """Run the hallway LED board of `device` until SIGTERM; 2 on a configuration mistake."""
    try:
        settings = led_settings(device)
    except ConfigError as e:
        print(e.explain("luot display: configuration error: "))
        return 2
    setup_logging(device.log_level)
    bus = LedBus(settings.bus)
    boards = [bus.board(row.address, f"row {i + 1}") for i, row in enumerate(settings.rows)]
    link = HubLink(device.broker, device_id=device.id, site=device.site, purpose="led")
    node = LedHallBoard(settings, link, boards, notifier=Notifier(), update=UpdateHooks.from_environment())
    on_stop(node.stop)
    link.start()
    try:
        node.run()
    finally:
        link.stop()
        bus.close()
    return 0
