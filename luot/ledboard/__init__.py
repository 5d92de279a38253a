"""Serial LED number boards: one driver interface, a protocol per file.

Serial LED boards have no single standard. A `LedBus` is one serial port
(RS-485 or USB) with one protocol and any number of boards at their own
addresses; a `Board` shows a short text (a ticket number such as "A023",
`BLANK` or `DASHES`). Each protocol lives in its own module of this package
(`modbus`, `ascii`), found by name: adding a protocol is adding one small
file with a `Protocol` subclass named `PROTOCOL`.

A board that does not answer, or a port that is unplugged, is a fault that
`Board.health()` reports; it never raises into the node, and the port is
reopened on the next write.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import termios
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import serial

from luot.config import ConfigError, Section
from luot.protocol import CodedError

log = logging.getLogger(__name__)

BLANK = ""
DASHES = "-"

# A new call blinks the number: lit BLINK_ON_S, dark BLINK_OFF_S, for BLINK_S, ending lit.
BLINK_ON_S, BLINK_OFF_S, BLINK_S = 0.4, 0.3, 2.1

# A board is written again now and then, so one that was power-cycled shows its text again and
# one that was unplugged shows up in the health report; sooner while it is at fault.
REFRESH_S = 30.0
RETRY_S = 5.0

OK = "ok"
NO_ANSWER = "no_answer"
BAD_REPLY = "bad_reply"
UNPLUGGED = "unplugged"


class BoardFault(CodedError):
    """A board did not take a frame: `code` is NO_ANSWER, BAD_REPLY or UNPLUGGED."""


class Protocol(ABC):
    """How one kind of board is addressed and what it answers."""

    name: ClassVar[str]
    addresses: ClassVar[range]

    @classmethod
    @abstractmethod
    def from_section(cls, section: Section) -> Protocol:
        """Read this protocol's own options from the bus's table."""

    @abstractmethod
    def frame(self, address: int, text: str) -> bytes:
        """The bytes that make the board at `address` show `text` (BLANK, DASHES or a number)."""

    def reply_size(self, frame: bytes) -> int:
        """How many bytes the board answers to `frame`; 0 when it answers nothing."""
        return 0

    @abstractmethod
    def check_reply(self, frame: bytes, reply: bytes) -> None:
        """Raise BoardFault(BAD_REPLY) when `reply` (possibly cut short) is not the board accepting
        `frame`. Called only when the protocol expects an answer and some bytes came."""


def protocol_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def protocol_class(name: str) -> type[Protocol]:
    """The protocol in the module `luot.ledboard.<name>`; KeyError if there is none."""
    if name not in protocol_names():
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name}")
    protocol: type[Protocol] = module.PROTOCOL
    return protocol


@dataclass(frozen=True)
class BusConfig:
    """A validated bus table: nothing is opened until the first write."""

    port: str
    baudrate: int
    reply_timeout_s: float
    protocol: Protocol

    @classmethod
    def from_section(cls, s: Section) -> BusConfig:
        """Reads `port`, `protocol`, `baudrate`, `reply_timeout_ms` and the protocol's options.

        The caller reads its own keys (addresses, rows) from the same table.
        """
        port = s.str("port")
        if not port:
            s.problem("port", "expected a serial port such as /dev/ttyUSB0; got an empty string")
        names = protocol_names()
        name = s.str("protocol", choices=tuple(names))
        return cls(
            port=port,
            baudrate=s.int("baudrate", 9600, min=300, max=921600),
            reply_timeout_s=s.int("reply_timeout_ms", 100, min=5, max=5000) / 1000,
            protocol=protocol_class(name).from_section(s),
        )

    def address(self, s: Section, default: int | None = None) -> int:
        """The table's `address`, valid for this bus's protocol (required when no default)."""
        valid = self.protocol.addresses
        given = () if default is None else (default,)
        return int(s.int("address", *given, min=valid.start, max=valid.stop - 1))


class LedBus:
    """One serial port shared by the boards on it; one frame on the wire at a time."""

    def __init__(self, config: BusConfig) -> None:
        self.config = config
        self._port: serial.SerialBase | None = None
        self._lock = threading.Lock()

    @property
    def protocol(self) -> Protocol:
        return self.config.protocol

    def board(self, address: int, name: str = "") -> Board:
        return Board(self, address, name or f"{self.config.port}#{address}")

    def _open(self) -> serial.SerialBase:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(
                    self.config.port,
                    baudrate=self.config.baudrate,
                    bytesize=serial.EIGHTBITS,
                    parity=serial.PARITY_NONE,
                    stopbits=serial.STOPBITS_ONE,
                    timeout=self.config.reply_timeout_s,
                    write_timeout=1.0,
                )
            except (serial.SerialException, OSError, ValueError) as e:
                raise BoardFault(UNPLUGGED, f"cannot open {self.config.port}: {e}") from None
        return self._port

    def transact(self, frame: bytes, reply_size: int) -> bytes:
        """Write one frame and read up to `reply_size` bytes of answer (fewer on a timeout)."""
        with self._lock:
            port = self._open()
            try:
                port.reset_input_buffer()
                port.write(frame)
                port.flush()
                reply = port.read(reply_size) if reply_size else b""
            except (serial.SerialException, OSError, termios.error) as e:
                self._close_port()
                raise BoardFault(UNPLUGGED, f"{self.config.port}: {e}") from None
        return bytes(reply)

    def _close_port(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                log.debug("closing %s failed", self.config.port)
            self._port = None

    def close(self) -> None:
        with self._lock:
            self._close_port()


class Board:
    """One board at one address: shows text, remembers what happened for the health report."""

    def __init__(self, bus: LedBus, address: int, name: str) -> None:
        self.bus = bus
        self.address = address
        self.name = name
        self.shown: str | None = None
        self.status = "unknown"
        self.detail = ""
        self.frames = 0
        self.faults = 0
        self._wanted: str | None = None
        self._written_at = 0.0

    def show(self, text: str) -> bool:
        """Send `text` to the board; False (and a fault in the health) when it did not take it."""
        protocol = self.bus.protocol
        frame = protocol.frame(self.address, text)
        size = protocol.reply_size(frame)
        try:
            reply = self.bus.transact(frame, size)
            if size and not reply:
                wait_ms = self.bus.config.reply_timeout_s * 1000
                raise BoardFault(NO_ANSWER, f"no answer within {wait_ms:.0f} ms")
            if size:
                protocol.check_reply(frame, reply)
        except BoardFault as fault:
            if fault.code != self.status:
                log.warning("LED board %s: %s", self.name, fault)
            self.status, self.detail = fault.code, fault.detail
            self.faults += 1
            self.shown = None
            return False
        if self.status != OK:
            log.info("LED board %s answers", self.name)
        self.status, self.detail = OK, ""
        self.frames += 1
        self.shown = text
        return True

    def keep(self, text: str, now: float) -> tuple[bool, float]:
        """Keep the board showing `text`: write it when it changed or is due again.

        Returns whether the board took a frame now, and when to call again at the latest."""
        again = self._written_at + (REFRESH_S if self.status == OK else RETRY_S)
        wrote = False
        if text != self._wanted or now >= again:
            self._wanted = text
            self._written_at = now
            wrote = self.show(text)
        return wrote, self._written_at + (REFRESH_S if self.status == OK else RETRY_S)

    def health(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "port": self.bus.config.port,
            "protocol": self.bus.protocol.name,
            "address": self.address,
            "status": self.status,
            "detail": self.detail,
            "shown": self.shown,
            "frames": self.frames,
            "faults": self.faults,
        }


def blinking(text: str, since: float, now: float) -> tuple[str, float | None]:
    """What a board shows at `now` for `text` called at `since`, and when that next changes."""
    phase = now - since
    if phase >= BLINK_S or not text or is_dashes(text):
        return text, None
    cycle = BLINK_ON_S + BLINK_OFF_S
    within = phase % cycle
    lit = within < BLINK_ON_S
    step = BLINK_ON_S - within if lit else cycle - within
    return (text if lit else BLANK), now + min(step, BLINK_S - phase)


def digits_of(text: str) -> str:
    """The digits of a ticket number: "A023" → "023"."""
    return "".join(ch for ch in text if ch.isdigit())


def is_dashes(text: str) -> bool:
    return bool(text) and set(text) == {"-"}


def check_unique_addresses(s: Section, key: str, addresses: list[int]) -> None:
    seen: set[int] = set()
    for address in addresses:
        if address in seen:
            raise ConfigError(s.file, s.key(key), f"address {address} is used by two boards on one bus")
        seen.add(address)
