"""A ticket that does not come out is reported as not printed and can be printed again: by the
citizen's own button, or by an officer's order from the web service."""

from __future__ import annotations

import json
import time

from helpers import wait_for
from kiosk_rig import Kiosk, health_watcher

from kiosk import desk as desk_module
from kiosk import ui as screens
from kiosk.desk import Reprint
from kiosk.printer import open_printer
from kiosk.settings import parse_printer_url
from luot.mqtt import make_paho_client, unique_client_id
from luot.protocol import ReprintOrder
from testbed.pty_printer import CUT, OFFLINE, READY, PtyPrinter


def jammed_kiosk(connect, pty: PtyPrinter) -> Kiosk:
    """kiosk-1 on a serial printer that goes offline right after its first job."""
    pty.after_cut.update(OFFLINE)
    printer = open_printer(parse_printer_url(f"serial://{pty.path}"), "TM-T88V")
    pty.printers.append(printer)
    return Kiosk(connect("kiosk-1"), printer)


def test_a_printer_jammed_right_after_the_job_is_no_printed_ticket(display, dispatcher, connect, broker,
                                                                    site, artifacts):
    health = health_watcher(broker, site.id, "kiosk-1")
    pty = PtyPrinter()
    made = jammed_kiosk(connect, pty)
    try:
        ticket = made.take("service:CT", until="fault")
        assert made.ui.visit.print_state == "fault:offline"
        frame = made.ui.frame()
        assert frame.print_state != "printed" and "reprint" in [b.id for b in frame.buttons]
        made.shot(artifacts, "number_jammed")
        wait_for(lambda: any(h.get("unprinted") == [ticket.number] for h in health),
                 what="the jammed ticket among the unprinted")
        assert made.printer.health()["printed"] == 0
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


class WebOrders:
    """The web service's side of reprint orders, as the broker lets the `web` user act."""

    def __init__(self, broker, site_id: str) -> None:
        self.root = f"luot/{site_id}/"
        self.answers: list[dict] = []
        self.client = make_paho_client(broker.settings("web"), unique_client_id("web", "orders"))
        self.client.on_message = lambda _c, _u, msg: self.answers.append(json.loads(msg.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(f"{self.root}device/kiosk-1/reprinted", qos=1)

    def order(self, payload: bytes | dict) -> None:
        body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        self.client.publish(f"{self.root}reprint/kiosk-1", body, qos=1).wait_for_publish(5)

    def answer(self, order_id: str) -> dict:
        return wait_for(lambda: next((a for a in self.answers if a.get("id") == order_id), None),
                        what=f"the kiosk's answer to {order_id}")

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


HOSTILE_ORDERS = [b"", b"{", b"\xff\xfe", b"[1]", b"[" * 100_000, json.dumps({"id": "x"}).encode(),
                  json.dumps({"id": "x", "number": "A 1"}).encode(),
                  json.dumps({"id": "", "number": "A001"}).encode(),
                  json.dumps({"id": "x" * 65, "number": "A001"}).encode(),
                  json.dumps({"id": "x", "number": "A001", "copies": 50}).encode(),
                  b'{"id": "\\ud800", "number": "A001"}', b"{" * 600]


def test_an_officers_order_prints_a_kept_ticket_once_and_the_answer_says_what_happened(
        display, dispatcher, connect, broker, site):
    health = health_watcher(broker, site.id, "kiosk-1")
    pty = PtyPrinter()
    made = jammed_kiosk(connect, pty)
    web = WebOrders(broker, site.id)
    try:
        number = made.take("service:CT", until="fault").number
        wait_for(lambda: any(h.get("unprinted") == [number] for h in health), what="the ticket unprinted")
        for hostile in HOSTILE_ORDERS:
            web.order(hostile)
        pty.answers.update(READY)
        jobs = pty.received.count(CUT)
        # An order the kiosk could not start in time prints nothing: the officer stopped waiting.
        late = time.monotonic() - desk_module.ORDER_START_WITHIN_S - 1
        made.desk.submit(Reprint(number, ReprintOrder("late", number), late))
        assert web.answer("late") == {"id": "late", "number": number, "ok": False, "error": "expired"}
        web.order({"id": "o1", "number": number})
        assert web.answer("o1") == {"id": "o1", "number": number, "ok": True, "error": None}
        wait_for(lambda: health[-1].get("unprinted") == [], what="the unprinted list emptied")
        web.order({"id": "o1", "number": number})  # delivered twice: carried out once
        web.order({"id": "o2", "number": number})  # printed already: nothing kept to print
        assert web.answer("o2")["error"] == "not_kept"
        assert pty.received.count(CUT) == jobs + 1
        assert [a["id"] for a in web.answers] == ["late", "o1", "o2"], "no hostile order was answered"
        assert made.printer.health()["printed"] == 1
        assert dispatcher.snapshot()["services"]["CT"]["issued"] == 1
    finally:
        web.stop()
        made.stop()
        pty.close()
