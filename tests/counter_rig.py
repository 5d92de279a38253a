"""The counter rig the counter tests share: a real CounterNode on gpiozero's mock pins, its
LED board at the far end of a pseudo-terminal, talking to the test's broker and dispatcher."""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gpiozero.pins.mock import MockFactory
from helpers import wait_for, write_device_toml

from counter_button.hardware import Hardware
from counter_button.node import CounterNode
from counter_button.settings import CounterSettings, read_settings
from luot.config import load_device
from luot.ledboard import LedBus
from luot.ledboard.modbus import with_crc
from testbed.ledboard_emulator import PtyBoard


@dataclass
class Rig:
    """A running counter node and what it is wired to."""

    node: CounterNode
    hardware: Hardware
    settings: CounterSettings
    board: PtyBoard | None
    outcomes: list[str] = field(default_factory=list)

    def press(self, name: str, times: int = 1) -> None:
        """A press and a release, each waited for: a finger on a button, without the bounce."""
        pin = self.hardware.pin(name)
        button = self.node.buttons[name]
        for _ in range(times):
            # A finger does not press again within the debounce time: that would be bounce.
            wait_for(lambda: button.debouncer.settle_at is None and button.down_at is None, what="quiet")
            pin.drive_low()
            wait_for(lambda: button.down_at is not None, what=f"{name} down")
            pin.drive_high()
            wait_for(lambda: button.down_at is None, what=f"{name} up")

    def hold(self, name: str) -> None:
        pin = self.hardware.pin(name)
        pin.drive_low()
        wait_for(lambda: self.node.buttons[name].hold_fired, what=f"the hold of {name}")
        pin.drive_high()
        wait_for(lambda: self.node.buttons[name].down_at is None, what=f"{name} up")

    def wait_outcome(self, prefix: str, after: int = 0, timeout: float = 5.0) -> str:
        return wait_for(lambda: next((o for o in self.outcomes[after:] if o.startswith(prefix)), None),
                        timeout=timeout, what=f"an outcome {prefix!r} after {after}")

    def idle(self) -> None:
        """Wait until no command is in flight and the node has caught up with the state."""
        wait_for(lambda: self.node.inflight is None, what="the command to finish")

    def act(self, name: str, outcome: str, *, hold: bool = False) -> None:
        """A press (or a hold), the outcome it brings, and the node idle again: an officer's
        action, seen through."""
        mark = len(self.outcomes)
        if hold:
            self.hold(name)
        else:
            self.press(name)
        self.wait_outcome(outcome, after=mark)
        self.idle()


# paho retries after 1, 2, 4, 8 s: a broker back after a few seconds is found within this.
RECONNECT_S = 20.0

COUNTER_TOML = """
[counter]
number = {number}
debounce_ms = 20
hold_s = 0.5
transfer_window_s = 0.5
error_s = 0.6
{extra}
"""


@contextmanager
def counter_rigs(broker, connect, site, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """Counter nodes on mock pins, each with its board on a pty; all stopped on leaving."""
    pins = MockFactory()
    rigs: list[tuple[Rig, threading.Thread, LedBus | None]] = []

    def make(device_id: str = "quay-1", number: int = 1, *, protocol: str | None = "modbus",
             answer: bool = True, extra: str = "") -> Rig:
        board = PtyBoard(protocol, answer=answer) if protocol else None
        board_toml = (f'[counter.board]\nport = "{board.port}"\nprotocol = "{protocol}"\naddress = 7\n'
                      if board else "")
        path = write_device_toml(
            tmp_path / f"{device_id}.toml", device_id=device_id, role="counter", site=site.id,
            host=broker.host, port=broker.port, password=broker.passwords[device_id],
            extra=COUNTER_TOML.format(number=number, extra=extra) + board_toml,
        )
        settings = read_settings(load_device(path))
        hardware = Hardware(settings, pins)
        bus = LedBus(settings.board) if settings.board else None
        link = connect(device_id)
        outcomes: list[str] = []
        node = CounterNode(settings, link, light_write=hardware.light, read_pressed=hardware.is_pressed,
                           board=bus.board(settings.board_address) if bus else None,
                           beep=hardware.beep, on_outcome=outcomes.append)
        hardware.attach(node.edge)
        thread = threading.Thread(target=node.run, daemon=True)
        thread.start()
        rig = Rig(node, hardware, settings, board, outcomes)
        rigs.append((rig, thread, bus))
        return rig

    yield make
    for rig, thread, bus in rigs:
        rig.node.stop()
        thread.join(timeout=5)
        rig.hardware.close()
        if bus:
            bus.close()
        if rig.board:
            rig.board.close()
    pins.reset()


def tickets(dispatcher) -> dict[str, dict]:
    rows = dispatcher.db.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    return {r["number"]: dict(r) for r in rows}


def take(connect, *services: str) -> list[str]:
    kiosk = connect("kiosk-1")
    return [kiosk.request("take", service=s)["ticket"]["number"] for s in services]


def modbus_frame(unit: int, value: int) -> bytes:
    return with_crc(struct.pack(">BBHH", unit, 6, 0, value))


# ---------------------------------------------------------------------- each button
