"""Printing tickets on an ESC/POS printer (python-escpos), and knowing when it cannot.

A job is built once into bytes (the ticket image, then a cut) and written in
one go. Before and after, a printer that can answer is asked for its state
with DLE EOT: offline, cover open, paper out, paper near its end. File, CUPS
and Dummy printers cannot answer, and a printer that stays silent is not
"out of paper": both are the state `unknown`. A fault never loses a ticket:
the caller still has the number to show, and the fault goes to health.
"""

from __future__ import annotations

import logging
import os
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import serial
from escpos.escpos import Escpos
from escpos.printer import CupsPrinter, Dummy, File, Network, Serial, Usb
from PIL import Image

from kiosk.settings import PrinterTarget
from luot.protocol import CodedError

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
STATUS_PRINTER = DLE_EOT + b"\x01"
STATUS_OFFLINE_CAUSE = DLE_EOT + b"\x02"
STATUS_PAPER = DLE_EOT + b"\x04"
STATUS_TIMEOUT_S = 0.5
WRITE_TIMEOUT_S = 5.0
# What a printer that went away raises: sockets and files, pyserial, and termios on a dead tty.
IO_ERRORS = (OSError, serial.SerialException, termios.error)

PAPER_OK = "ok"
PAPER_NEAR_END = "near_end"
PAPER_OUT = "out"
PAPER_UNKNOWN = "unknown"


class PrintFault(CodedError):
    """The ticket was not printed; `code` is a key of `texts.PRINTER_FAULTS`."""


@dataclass(frozen=True)
class PrinterStatus:
    paper: str
    fault: str | None


UNKNOWN = PrinterStatus(PAPER_UNKNOWN, None)


def decode_status(printer: bytes, cause: bytes, paper: bytes) -> PrinterStatus:
    """The answers to DLE EOT 1, 2 and 4 (empty when the printer said nothing)."""
    paper_state = PAPER_UNKNOWN
    if paper:
        if paper[0] & 0x60:
            paper_state = PAPER_OUT
        elif paper[0] & 0x0C:
            paper_state = PAPER_NEAR_END
        else:
            paper_state = PAPER_OK
    fault = None
    if cause and cause[0] & 0x04:
        fault = "cover_open"
    elif paper_state == PAPER_OUT or (cause and cause[0] & 0x20):
        fault = "out_of_paper"
        paper_state = PAPER_OUT
    elif printer and printer[0] & 0x08:
        fault = "offline"
    return PrinterStatus(paper_state, fault)


def job_bytes(image: Image.Image, profile: str) -> bytes:
    """The ESC/POS bytes of one ticket: the raster image, then feed and cut."""
    job = Dummy(profile=profile)
    job.image(image)
    job.cut()
    return job.output


class TicketPrinter:
    """What the kiosk needs from any printer: print one ticket, say how the printer is."""

    def __init__(self, profile: str, url: str) -> None:
        self.profile = profile
        self.url = url
        self.status = UNKNOWN
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.printed = 0

    def print_ticket(self, image: Image.Image, number: str) -> PrinterStatus:
        """Print and cut, or raise PrintFault; returns the state after printing.

        A printer that reports a fault right after the job (a jam, the cover opened, paper
        run out mid-ticket) has not given the citizen a ticket: that is a fault too."""
        try:
            self._send(image, number)
            # The job went through, so an earlier fault is over unless the printer says otherwise
            # now (a printer that cannot be asked keeps no stale fault).
            self.status = PrinterStatus(self.status.paper, None)
            after = self.check()
            if after.fault is not None:
                raise PrintFault(after.fault, f"the printer reports {after.fault} after ticket {number}")
        except PrintFault as fault:
            self._failed(fault)
            raise
        self.printed += 1
        return self.status

    def check(self) -> PrinterStatus:
        return self.status

    def close(self) -> None:
        """Let go of the device (at shutdown)."""

    def _send(self, image: Image.Image, number: str) -> None:
        raise NotImplementedError

    def _failed(self, fault: PrintFault) -> None:
        log.warning("ticket not printed: %s", fault)
        self.status = PrinterStatus(self.status.paper if fault.code != "out_of_paper" else PAPER_OUT,
                                    fault.code)
        self.last_error = f"{fault.code}: {fault.detail}"
        self.last_error_at = datetime.now().astimezone().isoformat(timespec="seconds")

    def health(self) -> dict[str, Any]:
        return {
            "printer": self.url,
            "profile": self.profile,
            "paper": self.status.paper,
            "printer_fault": self.status.fault,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "printed": self.printed,
        }


class PngPrinter(TicketPrinter):
    """`png:///folder`: each ticket as a PNG file, for the demo and a laptop without a printer."""

    def __init__(self, folder: Path, profile: str, url: str) -> None:
        super().__init__(profile, url)
        self.folder = folder

    def check(self) -> PrinterStatus:
        """A PNG "printer" has no paper to report; it is at fault while its folder cannot be written."""
        existing = self.folder if self.folder.exists() else self.folder.parent
        if existing.is_dir() and os.access(existing, os.W_OK):
            self.status = UNKNOWN
        else:
            self._failed(PrintFault("unplugged", f"cannot write to {self.folder}"))
        return self.status

    def _send(self, image: Image.Image, number: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            image.save(self.folder / f"{datetime.now():%Y%m%d-%H%M%S}-{number}.png")
        except OSError as e:
            raise PrintFault("unplugged", f"cannot write to {self.folder}: {e.strerror}") from None


class EscposPrinter(TicketPrinter):
    """A python-escpos printer, opened on first use and reopened after a fault."""

    def __init__(self, open_printer: Callable[[], Escpos], profile: str, url: str,
                 *, close_after_job: bool = False) -> None:
        super().__init__(profile, url)
        self._open_printer = open_printer
        self._printer: Escpos | None = None
        self._close_after_job = close_after_job
        self.last_job_ready = 0.0

    def check(self) -> PrinterStatus:
        """Ask the printer how it is (paper, cover, online); `unknown` if it cannot say."""
        try:
            printer = self._connected()
            status = self._query(printer)
        except PrintFault as fault:
            self._failed(fault)
            return self.status
        self.status = status
        return status

    def close(self) -> None:
        self._drop()

    def _connected(self) -> Escpos:
        if self._printer is not None:
            return self._printer
        try:
            printer = self._open_printer()
            printer.open()
        except Exception as e:
            code = "not_answering" if self.url.startswith("tcp:") else "unplugged"
            raise PrintFault(code, str(e).strip() or type(e).__name__) from None
        if isinstance(printer, Serial):
            printer.device.write_timeout = WRITE_TIMEOUT_S
        self._printer = printer
        return printer

    def _drop(self) -> None:
        if self._printer is not None:
            try:
                self._printer.close()
            except Exception as e:
                # An unplugged port fails even to flush; forget it so it is not closed again.
                log.debug("closing the printer: %s", e)
                self._printer.device = False
            self._printer = None

    def _read_status(self, printer: Escpos, query: bytes) -> bytes:
        """One status byte, or b"" if the printer cannot or does not answer in time."""
        if isinstance(printer, Serial):
            printer.device.reset_input_buffer()
            printer._raw(query)
            return bytes(printer.device.read(1))
        if isinstance(printer, Network):
            sock = printer.device
            printer._raw(query)
            sock.settimeout(STATUS_TIMEOUT_S)
            try:
                return sock.recv(1)
            except TimeoutError:
                return b""
            finally:
                sock.settimeout(WRITE_TIMEOUT_S)
        if isinstance(printer, File | Dummy):
            return b""
        try:
            printer._raw(query)
            return bytes(printer._read())[:1]
        except NotImplementedError:
            return b""
        except OSError as e:
            # pyusb's USBTimeoutError (an OSError): a USB printer that does not answer status.
            if type(e).__name__ == "USBTimeoutError":
                return b""
            raise

    def _query(self, printer: Escpos) -> PrinterStatus:
        try:
            first = self._read_status(printer, STATUS_PRINTER)
            if not first:
                return UNKNOWN
            cause = self._read_status(printer, STATUS_OFFLINE_CAUSE) if first[0] & 0x08 else b""
            paper = self._read_status(printer, STATUS_PAPER)
        except IO_ERRORS as e:
            self._drop()
            raise PrintFault("unplugged", f"status query failed: {e}") from None
        return decode_status(first, cause, paper)

    def _send(self, image: Image.Image, number: str) -> None:
        job = job_bytes(image, self.profile)
        self.last_job_ready = time.perf_counter()
        printer = self._connected()
        before = self._query(printer)
        if before.fault is not None:
            self.status = before
            raise PrintFault(before.fault, f"the printer reports {before.fault} before ticket {number}")
        try:
            printer._raw(job)
            if isinstance(printer, File):
                printer.flush()
            if self._close_after_job:
                self._drop()
        except IO_ERRORS as e:
            self._drop()
            timed_out = isinstance(e, TimeoutError | serial.SerialTimeoutException)
            code = "not_answering" if timed_out else "unplugged"
            raise PrintFault(code, f"writing ticket {number} failed: {e}") from None


def open_printer(target: PrinterTarget, profile: str) -> TicketPrinter:
    """The printer a `[kiosk] printer` URL names; nothing is opened until the first ticket."""
    if target.scheme == "png":
        return PngPrinter(Path(target.path), profile, target.url)
    factories: dict[str, Callable[[], Escpos]] = {
        "serial": lambda: Serial(target.path, baudrate=target.baudrate, timeout=STATUS_TIMEOUT_S,
                                 dsrdtr=False, profile=profile),
        "tcp": lambda: Network(target.host, target.port, timeout=WRITE_TIMEOUT_S, profile=profile),
        "file": lambda: File(target.path, profile=profile),
        "usb": lambda: Usb(target.vendor, target.product, timeout=int(WRITE_TIMEOUT_S * 1000),
                           profile=profile),
        "cups": lambda: CupsPrinter(target.path, profile=profile),
    }
    return EscposPrinter(factories[target.scheme], profile, target.url,
                         close_after_job=target.scheme == "cups")

