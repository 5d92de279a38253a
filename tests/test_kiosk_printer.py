"""Printer faults on real transports: a serial printer over a pty that answers DLE EOT like
an ESC/POS printer, a network printer on a socket, a file printer, the PNG printer."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from helpers import wait_for
from PIL import Image

from kiosk.printer import (
    PAPER_NEAR_END,
    PAPER_OK,
    PAPER_OUT,
    PAPER_UNKNOWN,
    PrintFault,
    TicketPrinter,
    decode_status,
    open_printer,
)
from kiosk.settings import parse_printer_url
from testbed.pty_printer import CUT, PtyPrinter


@pytest.fixture
def pty_printer():
    printer = PtyPrinter()
    yield printer
    printer.close()


def ticket_image(height: int = 200) -> Image.Image:
    image = Image.new("1", (384, height), 1)
    image.paste(0, (40, 40, 340, height - 40))
    return image


def serial_printer(pty: PtyPrinter) -> TicketPrinter:
    """A TM-T88V (it has a cutter) on the pty; closed before the pty goes away."""
    printer = open_printer(parse_printer_url(f"serial://{pty.path}?baudrate=19200"), "TM-T88V")
    pty.printers.append(printer)
    return printer


@pytest.mark.parametrize(
    ("status", "cause", "paper", "expected"),
    [
        (b"\x12", b"", b"\x12", (PAPER_OK, None)),
        (b"\x12", b"", b"\x1e", (PAPER_NEAR_END, None)),
        (b"\x1a", b"\x32", b"\x72", (PAPER_OUT, "out_of_paper")),
        (b"\x1a", b"\x16", b"\x12", (PAPER_OK, "cover_open")),
        (b"\x1a", b"\x12", b"\x12", (PAPER_OK, "offline")),
        (b"", b"", b"", (PAPER_UNKNOWN, None)),
        (b"\x12", b"", b"", (PAPER_UNKNOWN, None)),
    ],
)
def test_status_bytes(status, cause, paper, expected):
    decoded = decode_status(status, cause, paper)
    assert (decoded.paper, decoded.fault) == expected


def test_serial_printer_prints_and_cuts(pty_printer):
    printer = serial_printer(pty_printer)
    status = printer.print_ticket(ticket_image(), "A001")
    assert status.paper == PAPER_OK and status.fault is None
    wait_for(lambda: CUT in pty_printer.received, what="the cut")
    assert pty_printer.received.index(b"\x1dv0") < pty_printer.received.rindex(CUT)
    assert printer.health()["printed"] == 1


def test_paper_near_end_is_reported_after_printing(pty_printer):
    pty_printer.answers[4] = b"\x1e"
    printer = serial_printer(pty_printer)
    status = printer.print_ticket(ticket_image(), "A001")
    assert status.paper == PAPER_NEAR_END and status.fault is None
    assert printer.health()["paper"] == "near_end"


@pytest.mark.parametrize(
    ("answers", "fault"),
    [
        ({1: b"\x1a", 2: b"\x32", 4: b"\x72"}, "out_of_paper"),
        ({1: b"\x1a", 2: b"\x16", 4: b"\x12"}, "cover_open"),
        ({1: b"\x1a", 2: b"\x12", 4: b"\x12"}, "offline"),
    ],
)
def test_a_printer_that_reports_a_fault_gets_no_ticket(pty_printer, answers, fault):
    pty_printer.answers.update(answers)
    printer = serial_printer(pty_printer)
    with pytest.raises(PrintFault) as e:
        printer.print_ticket(ticket_image(), "A001")
    assert e.value.code == fault
    assert b"\x1dv0" not in pty_printer.received
    health = printer.health()
    assert health["printer_fault"] == fault and health["last_error"].startswith(fault)
    # Paper loaded, cover closed: the same printer prints again.
    pty_printer.answers.update({1: b"\x12", 2: b"\x12", 4: b"\x12"})
    assert printer.check().fault is None
    printer.print_ticket(ticket_image(), "A002")
    assert b"\x1dv0" in pty_printer.received


def test_a_silent_printer_is_unknown_not_out_of_paper(pty_printer):
    pty_printer.answers.clear()
    printer = serial_printer(pty_printer)
    status = printer.print_ticket(ticket_image(), "A001")
    assert status.paper == PAPER_UNKNOWN and status.fault is None
    wait_for(lambda: b"\x1dv0" in pty_printer.received, what="the ticket")


def test_an_unplugged_serial_printer_is_a_fault_not_a_crash(tmp_path):
    printer = open_printer(parse_printer_url(f"serial://{tmp_path}/ttyUSB9"), "POS-5890")
    with pytest.raises(PrintFault) as e:
        printer.print_ticket(ticket_image(), "A001")
    assert e.value.code == "unplugged"
    assert printer.check().fault == "unplugged"


def test_a_printer_unplugged_between_tickets(pty_printer):
    printer = serial_printer(pty_printer)
    printer.print_ticket(ticket_image(), "A001")
    pty_printer.printers.clear()
    pty_printer.close()
    with pytest.raises(PrintFault) as e:
        printer.print_ticket(ticket_image(), "A002")
    assert e.value.code in ("unplugged", "not_answering")
    assert printer.health()["printed"] == 1


def test_a_network_printer_that_does_not_answer():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = open_printer(parse_printer_url(f"tcp://127.0.0.1:{port}"), "TM-T88V")
    with pytest.raises(PrintFault) as e:
        printer.print_ticket(ticket_image(), "A001")
    assert e.value.code == "not_answering"
    assert printer.health()["printer_fault"] == "not_answering"


def test_a_network_printer_prints_and_its_silence_is_unknown():
    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def accept() -> None:
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    printer = open_printer(parse_printer_url(f"tcp://127.0.0.1:{server.getsockname()[1]}"), "TM-T88V")
    status = printer.print_ticket(ticket_image(), "A001")
    assert status.paper == PAPER_UNKNOWN
    wait_for(lambda: CUT in received, what="the ticket over TCP")
    server.close()


def test_file_printer_writes_the_job_and_cannot_read_status(tmp_path):
    device = tmp_path / "lp0"
    printer = open_printer(parse_printer_url(f"file://{device}"), "TM-T88V")
    assert printer.print_ticket(ticket_image(), "A001").paper == PAPER_UNKNOWN
    data = device.read_bytes()
    assert b"\x1dv0" in data and CUT in data


def test_png_printer_writes_each_ticket(tmp_path):
    printer = open_printer(parse_printer_url(f"png://{tmp_path}/tickets"), "POS-5890")
    printer.print_ticket(ticket_image(), "A001")
    printer.print_ticket(ticket_image(), "A002")
    files = sorted(Path(tmp_path, "tickets").glob("*.png"))
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["A001.png", "A002.png"]
    assert Image.open(files[0]).width == 384


def test_png_printer_in_a_folder_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    printer = open_printer(parse_printer_url(f"png://{blocker}/tickets"), "POS-5890")
    with pytest.raises(PrintFault) as e:
        printer.print_ticket(ticket_image(), "A001")
    assert e.value.code == "unplugged"


def test_png_printer_recovers_when_its_folder_becomes_writable(tmp_path):
    blocker = tmp_path / "tickets"
    blocker.write_text("a file where the folder should be")
    printer = open_printer(parse_printer_url(f"png://{blocker}"), "POS-5890")
    assert printer.check().fault == "unplugged"
    blocker.unlink()
    assert printer.check().fault is None
    printer.print_ticket(ticket_image(), "A001")
    assert printer.health()["printer_fault"] is None and printer.health()["printed"] == 1
