"""A serial ESC/POS printer at the far end of a pseudo-terminal: the kiosk's printer seam for
tests. It answers DLE EOT status queries with the bytes it is given and records the rest."""

from __future__ import annotations

import os
import select
import threading
import tty

from kiosk.printer import TicketPrinter

CUT = b"\x1dV"
# DLE EOT 1/2/4 answers: a printer that is ready, and one that went offline (a jam).
READY = {1: b"\x12", 2: b"\x12", 4: b"\x12"}
OFFLINE = {1: b"\x1a", 2: b"\x12", 4: b"\x12"}


class PtyPrinter:
    """The far end of a pty: answers DLE EOT 1/2/4 with the bytes it is given, records the rest."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.received = bytearray()
        self.printers: list[TicketPrinter] = []
        self.answers: dict[int, bytes] = {1: b"\x12", 2: b"\x12", 4: b"\x12"}
        self.after_cut: dict[int, bytes] = {}  # answers from the first cut on: a jam after a job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        tail = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            self.received.extend(chunk)
            data = tail + chunk
            if CUT in data and self.after_cut:
                self.answers.update(self.after_cut)
                self.after_cut = {}
            for i in range(len(data) - 2):
                if data[i:i + 2] == b"\x10\x04" and data[i + 2] in self.answers:
                    os.write(self.master, self.answers[data[i + 2]])
            tail = data[-2:]

    def close(self) -> None:
        """Unplug: the far end goes away (idempotent)."""
        if self._stop.is_set():
            return
        for printer in self.printers:
            printer.close()
        self._stop.set()
        self._thread.join(timeout=1)
        os.close(self.master)
        os.close(self._slave)
