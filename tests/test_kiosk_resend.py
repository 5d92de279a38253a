"""A number is never issued twice and never lost: takes sent again under their id, an unanswered
take reused, a late attempt asked afresh; a printer out of paper or hung never hides the number."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from helpers import wait_for
from kiosk_rig import CUT, Kiosk, health_watcher

from dispatcher.service import Dispatcher
from kiosk import desk as desk_module
from kiosk import ui as screens
from kiosk.desk import TakeRequest
from kiosk.printer import open_printer
from kiosk.settings import parse_printer_url
from luot import protocol as p
from testbed.pty_printer import PtyPrinter

# ---------------------------------------------------------------- never twice, never lost


def test_a_take_that_times_out_is_sent_again_with_the_same_id(display, broker, site, tmp_path,
                                                             connect, dummy_printer):
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
    link = connect("kiosk-1")
    hub.stop()  # its session stays in the broker: commands wait there for it
    made = Kiosk(link, dummy_printer[1], attempt_timeout=0.3, give_up_after=15)
    made.ui.activate("service:CT")
    # The first attempt timed out and the same id is being sent again.
    wait_for(lambda: made.desk._unanswered is not None, what="an unanswered attempt")
    assert made.ui.screen == screens.TAKING
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    made.pump_until(lambda: made.ui.visit.print_state == "printed", what="the ticket", timeout=10)
    assert made.ui.visit.ticket.number == "A001"
    # Attempts older than their message expiry were dropped by the broker, never carried out.
    wait_for(lambda: hub.commands >= 1, what="the repeated command")
    assert hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    assert len({r[0] for r in hub.db.execute("SELECT id FROM commands")}) == 1
    made.stop()
    hub.stop()


def test_an_unanswered_take_is_reused_by_the_next_touch(display, broker, site, tmp_path, connect,
                                                         dummy_printer):
    """The hub is away when the citizen touches; the broker drops the command when its expiry
    passes. The next touch sends the same id, so if the hub had issued a number under it (its
    reply lost) that very number would come; it had not, so the hub issues A001 under that id."""
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
    link = connect("kiosk-1")
    hub.stop()
    made = Kiosk(link, dummy_printer[1], attempt_timeout=0.2, give_up_after=0.5)
    # A touch in the moment before the kiosk hears the hub's offline (once it has, the fields
    # are greyed: test_kiosk_hub_status).
    made.ui.activate("service:CT")
    made.pump_until(lambda: made.ui.screen == screens.MESSAGE, what="the give-up message")
    assert made.ui.visit.message == screens.texts.ERRORS["unreachable"]
    first_id = made.desk._unanswered.command_id
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    # The command expired in the broker with the kiosk's wait: what the citizen was told (no
    # number) is what happened. The next touch on CT sends it again and gets A001.
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher back")
    wait_for(lambda: link.hub_online, what="the kiosk hearing that the dispatcher is back")
    assert hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    made.touch("back")
    assert made.take("service:CT").number == "A001"
    assert [r[0] for r in hub.db.execute("SELECT id FROM commands")] == [first_id]
    made.touch("done")
    assert made.take("service:CT").number == "A002"
    assert hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 2
    made.stop()
    hub.stop()


def test_a_late_attempt_refused_as_expired_is_asked_afresh(display, dispatcher, connect, dummy_printer,
                                                           tmp_path):
    """The hub read the earlier attempt after its sender gave up and stored `expired` for its id:
    the next touch that reuses the id is answered `expired` and asks again under a new id."""
    link = connect("kiosk-1")
    made = Kiosk(link, dummy_printer[1])
    late = made.desk._unanswered = desk_module._Unanswered(TakeRequest("CT"))
    reply = p.encode(p.error_reply(late.command_id, p.EXPIRED, "it came after its sender stopped waiting"))
    db = sqlite3.connect(tmp_path / "luot.db", isolation_level=None)
    db.execute("INSERT INTO commands (device, id, at, reply, digest) VALUES (?, ?, ?, ?, NULL)",
               ("kiosk-1", late.command_id, time.time(), reply.decode()))
    assert made.take("service:CT").number == "A001"
    assert db.execute("SELECT COUNT(*) FROM commands").fetchone()[0] == 2
    db.close()
    made.stop()


def test_printer_out_of_paper_shows_the_number_and_tells_the_technician(display, dispatcher, connect,
                                                                       broker, site, artifacts):
    health = health_watcher(broker, site.id, "kiosk-1")
    pty = PtyPrinter()
    pty.answers.update({1: b"\x1a", 2: b"\x32", 4: b"\x72"})
    printer = open_printer(parse_printer_url(f"serial://{pty.path}"), "TM-T88V")
    pty.printers.append(printer)
    made = Kiosk(connect("kiosk-1"), printer)
    ticket = made.take("service:CT", until="fault")
    assert made.ui.visit.print_state == "fault:out_of_paper"
    made.shot(artifacts, "number_out_of_paper")
    wait_for(lambda: any(h.get("unprinted") == [ticket.number] for h in health), what="the fault in health")
    report = next(h for h in health if h.get("unprinted"))
    assert report["paper"] == "out" and report["printer_fault"] == "out_of_paper"
    assert report["last_error"].startswith("out_of_paper") and report["versions"]["python-escpos"]
    assert dispatcher.snapshot()["services"]["CT"]["issued"] == 1, "the number is issued once, not again"
    made.touch("done")
    assert made.ui.frame().prompt == screens.texts.PRINTER_WARNING
    pty.answers.update({1: b"\x12", 2: b"\x12", 4: b"\x1e"})
    assert made.take("service:CT").number == "A002"
    wait_for(lambda: health and health[-1]["paper"] == "near_end", what="paper near its end")
    made.stop()
    pty.close()




def test_a_hung_printer_never_freezes_the_screen(display, dispatcher, connect, tmp_path, monkeypatch):
    """A printer device that blocks on open (a FIFO nobody reads): the citizen is told, not left waiting."""
    monkeypatch.setattr(screens, "TAKING_GIVE_UP_S", 0.5)
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    made = Kiosk(connect("kiosk-1"), open_printer(parse_printer_url(f"file://{fifo}"), "TM-T88V"))
    made.ui.return_after_s = 0.3
    made.touch("service:CT")
    made.pump_until(lambda: made.ui.screen == screens.MESSAGE, what="the give-up message")
    assert made.ui.visit.message == screens.texts.OTHER_ERROR
    made.pump_until(lambda: made.ui.screen == screens.HOME, what="the start screen")
    drained = bytearray()

    def drain() -> None:
        with open(fifo, "rb", buffering=0) as reader:
            while chunk := reader.read(65536):
                drained.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    wait_for(lambda: CUT in drained, what="the late ticket")
    made.stop()
