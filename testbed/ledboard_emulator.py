"""A board at the far end of a pseudo-terminal, for tests, benchmarks and demos without hardware.

The driver opens `emulator.port` like a USB-RS485 adapter; the emulator reads
the frames written to it, records them with the time they arrived, and answers
as a board would (`answer=True`: the Modbus echo, or ACK for ASCII boards
configured with `ack`). `unplug()` closes its end, as pulling the cable does.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty

from luot.ledboard.ascii import ACK, ETX, STX


class PtyBoard:
    def __init__(self, protocol: str, *, answer: bool = True) -> None:
        if protocol not in ("modbus", "ascii"):
            raise ValueError(f"no emulator for protocol {protocol!r}")
        self.protocol = protocol
        self.answer = answer
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._fds: tuple[int, ...] = (self._master, self._slave)
        self.frames: list[tuple[float, bytes]] = []
        self._buffer = b""
        self._changed = threading.Condition()
        self._open = True
        self._thread = threading.Thread(target=self._read, name="pty-board", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self._open:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(self._master, 4096)
            except OSError:
                return
            now = time.perf_counter()
            self._buffer += data
            for frame in self._split():
                with self._changed:
                    self.frames.append((now, frame))
                    self._changed.notify_all()
                if self.answer and self._open:
                    os.write(self._master, frame if self.protocol == "modbus" else bytes([ACK]))

    def _split(self) -> list[bytes]:
        frames = []
        if self.protocol == "modbus":
            while len(self._buffer) >= 8:
                frames.append(self._buffer[:8])
                self._buffer = self._buffer[8:]
        else:
            while (end := self._buffer.find(bytes([ETX]))) >= 0:
                start = self._buffer.rfind(bytes([STX]), 0, end)
                if start >= 0:
                    frames.append(self._buffer[start:end + 1])
                self._buffer = self._buffer[end + 1:]
        return frames

    def wait_frames(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Block until at least `count` frames arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.frames) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.frames)} of {count} frames within {timeout} s")
                self._changed.wait(left)
            return [f for _, f in self.frames]

    def unplug(self) -> None:
        """Close this end: the driver's writes now fail, as with a pulled USB adapter."""
        self._open = False
        self._thread.join(timeout=1)
        fds, self._fds = self._fds, ()
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    close = unplug
