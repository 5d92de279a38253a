"""An optional QR scanner on a serial port (or a USB scanner in serial mode).

Scanners type the code followed by CR and/or LF. Each complete line is handed
on as text; a port that is missing or unplugged is retried every few seconds
and its state reported, so the kiosk keeps working without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import serial

from luot.background import Background

log = logging.getLogger(__name__)

MAX_LINE = 1024
RETRY_S = 5.0


def split_lines(buffer: bytearray, chunk: bytes) -> list[str]:
    """Append `chunk` and take out every complete line (CR or LF ends one); overlong lines dropped."""
    buffer.extend(chunk)
    lines: list[str] = []
    while True:
        ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
        if not ends:
            break
        end = min(ends)
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        if line.strip():
            lines.append(line.decode("utf-8", errors="replace"))
    if len(buffer) > MAX_LINE:
        buffer.clear()
    return lines


class CardScanner(Background):
    """Reads codes on its own thread; `on_code(text)` for each, `on_state(text)` when the port changes."""

    def __init__(self, port: str, baudrate: int, on_code: Callable[[str], None],
                 on_state: Callable[[str], None]) -> None:
        super().__init__("kiosk-scanner", join_s=2)
        self.port = port
        self.baudrate = baudrate
        self.on_code = on_code
        self.on_state = on_state

    def run(self) -> None:
        state = ""
        while not self._stop.is_set():
            try:
                with serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.5) as port:
                    if state != "ok":
                        state = "ok"
                        self.on_state(state)
                    self._read(port)
            except (OSError, serial.SerialException) as e:
                now = f"not available: {e}"
                if now != state:
                    state = now
                    log.warning("CCCD scanner %s %s", self.port, now)
                    self.on_state(state)
                self._stop.wait(RETRY_S)

    def _read(self, port: serial.SerialBase) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            chunk = port.read(port.in_waiting or 1)
            for line in split_lines(buffer, chunk):
                self.on_code(line)
