"""A ticket that does not come out is reported as not printed and can be printed again."""

from __future__ import annotations

from helpers import wait_for
from test_kiosk_flow import CUT, Kiosk, health_watcher
from test_kiosk_printer import PtyPrinter

from kiosk import ui as screens
from kiosk.printer import open_printer
from kiosk.settings import parse_printer_url

OFFLINE = {1: b"\x1a", 2: b"\x12", 4: b"\x12"}
READY = {1: b"\x12", 2: b"\x12", 4: b"\x12"}


def test_a_printer_jammed_right_after_the_job_is_no_printed_ticket(display, dispatcher, connect, broker,
                                                                    site, artifacts):
    health = health_watcher(broker, site.id, "kiosk-1")
    pty = PtyPrinter()
    pty.after_cut.update(OFFLINE)
    printer = open_printer(parse_printer_url(f"serial://{pty.path}"), "TM-T88V")
    pty.printers.append(printer)
    made = Kiosk(connect("kiosk-1"), printer)
    try:
        ticket = made.take("service:CT", until="fault")
        assert made.ui.visit.print_state == "fault:offline"
        frame = made.ui.frame()
        assert frame.print_state != "printed" and "reprint" in [b.id for b in frame.buttons]
        made.shot(artifacts, "number_jammed")
        wait_for(lambda: any(h.get("unprinted") == [ticket.number] for h in health),
                 what="the jammed ticket among the unprinted")
        assert printer.health()["printed"] == 0
        # The printer is put right; the citizen touches "In lại phiếu" and gets the same ticket.
        pty.answers.update(READY)
        jobs = pty.received.count(CUT)
        made.touch("reprint")
        made.pump_until(lambda: made.ui.visit.print_state == "printed", what="the ticket printed again")
        assert made.ui.screen == screens.NUMBER and made.ui.visit.ticket.number == ticket.number
        wait_for(lambda: pty.received.count(CUT) == jobs + 1, what="the second job")
        wait_for(lambda: health and health[-1].get("unprinted") == [], what="the unprinted list emptied")
        assert dispatcher.snapshot()["services"]["CT"]["issued"] == 1, "printed again, not issued again"
    finally:
        made.stop()
        pty.close()
