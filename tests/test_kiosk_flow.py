"""The kiosk end to end: injected touches on the dummy SDL screen, a real Mosquitto and the
real dispatcher, python-escpos' Dummy printer (or a pty printer) for the tickets."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pygame
import pytest
from escpos.printer import Dummy
from helpers import wait_for, write_device_toml

from dispatcher.service import Dispatcher
from kiosk import desk as desk_module
from kiosk import ui as screens
from kiosk.__main__ import versions
from kiosk.desk import TakeRequest, TicketDesk
from kiosk.printer import EscposPrinter, TicketPrinter, open_printer
from kiosk.screens import HubSnapshot, link_snapshot
from kiosk.settings import parse_printer_url
from kiosk.ui import KioskUI
from luot import protocol as p
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from testbed.pty_printer import PtyPrinter

SECRET = "site-secret-0123456789"
CARD = "001095012345|123456789|Nguyễn Văn An|15041960|Nam|Số 1 Lê Lợi|20052021"
YOUNG_CARD = "079200001234||Trần Thị Bình|02031990|Nữ|Quận 1|01012022"
SIZES = [(800, 480), (1080, 1920), (1920, 1080)]
RASTER = b"\x1dv0"
CUT = b"\x1dV"


class Kiosk:
    """A kiosk as `luot kiosk` wires it, with the printer and screen size the test chooses."""

    def __init__(self, link, printer: TicketPrinter, size=(800, 480), **desk_options) -> None:
        self.link = link
        self.surface = pygame.display.set_mode(size)
        self.snapshot_override: HubSnapshot | None = None
        self.printer = printer
        self.ui = KioskUI(self.surface, self.snapshot, lambda r: self.desk.submit(r),
                          return_after_s=5, citizen_secret=SECRET)
        self.desk = TicketDesk(link, printer, 512, self.ui.notify, versions=versions(), **desk_options)
        link.add_handler(lambda topic, _p, _r: self.ui.notify("hub"))
        link.add_connection_handler(lambda _up: self.ui.notify("hub"))
        self.desk.start()
        self.ui.draw(force=True)

    def snapshot(self) -> HubSnapshot:
        return self.snapshot_override or link_snapshot(self.link)

    def pump_until(self, probe, what: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen is {self.ui.screen}")
            self.ui.pump(0.05)
        return found

    def touch(self, button: str) -> None:
        assert self.ui.touch(button), f"{button} is not on the {self.ui.screen} screen"
        self.ui.pump(0.05)

    def take(self, button: str, *, until: str = "printed"):
        self.touch(button)
        visit = lambda: self.ui.visit  # noqa: E731
        self.pump_until(lambda: self.ui.screen == screens.NUMBER and visit().print_state.startswith(until),
                        what=f"a ticket from {button}")
        return self.ui.visit.ticket

    def shot(self, artifacts: Path, name: str) -> None:
        self.ui.draw(force=True)
        w, h = self.surface.get_size()
        pygame.image.save(self.surface, artifacts / f"kiosk_{name}_{w}x{h}.png")

    def stop(self) -> None:
        self.desk.stop()


@pytest.fixture
def dummy_printer():
    dummy = Dummy(profile="TM-T88V")
    return dummy, EscposPrinter(lambda: dummy, "TM-T88V", "dummy://")


@pytest.fixture
def kiosk(display, dispatcher, connect, dummy_printer):
    made = Kiosk(connect("kiosk-1"), dummy_printer[1])
    yield made
    made.stop()


def health_watcher(broker, site_id: str, device: str) -> list[dict]:
    """Everything published on device/<id>/health, read as the admin user may."""
    seen: list[dict] = []
    client = make_paho_client(broker.settings("admin"), unique_client_id("admin", "health"))
    topic = f"luot/{site_id}/device/{device}/health"
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, msg: seen.append(json.loads(msg.payload))
    client.connect(broker.host, broker.port)
    client.loop_start()
    return seen


# ---------------------------------------------------------------- taking numbers by touch


def test_touches_take_a_ticket_for_each_service(kiosk, dummy_printer, dispatcher):
    dummy, _ = dummy_printer
    numbers = []
    for code in ("CT", "HT", "DD"):
        dummy.clear()
        ticket = kiosk.take(f"service:{code}")
        numbers.append(ticket.number)
        assert RASTER in dummy.output and dummy.output.rindex(CUT) > dummy.output.index(RASTER)
        kiosk.touch("done")
        assert kiosk.ui.screen == screens.HOME
    assert numbers == ["A001", "B001", "3001"]
    issued = {code: s["issued"] for code, s in dispatcher.snapshot()["services"].items()}
    assert issued == {"CT": 1, "HT": 1, "DD": 1}


def test_the_priority_path(kiosk, dispatcher):
    kiosk.touch("priority")
    assert kiosk.ui.screen == screens.PRIORITY
    kiosk.touch("category:khuyet-tat")
    assert kiosk.ui.screen == screens.PRIORITY_SERVICES
    ticket = kiosk.take("service:HT")
    assert ticket.number == "B001" and ticket.priority == "Người khuyết tật"
    assert dispatcher.snapshot()["services"]["HT"]["waiting_priority"] == 1


def test_back_buttons_and_a_mouse_click(kiosk):
    kiosk.touch("priority")
    kiosk.touch("category:nguoi-cao-tuoi")
    kiosk.touch("back")
    assert kiosk.ui.screen == screens.PRIORITY and kiosk.ui.visit.priority is None
    kiosk.touch("back")
    assert kiosk.ui.screen == screens.HOME
    centre = kiosk.ui.button_centre("service:CT")
    synthesised = {"pos": centre, "button": 1, "touch": True}
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, synthesised))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, synthesised))
    kiosk.ui.pump(0.05)
    assert kiosk.ui.screen == screens.HOME, "a touch reported again as a mouse click is one press, not two"
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pygame.event.post(pygame.event.Event(kind, {"pos": centre, "button": 1, "touch": False}))
    kiosk.pump_until(lambda: kiosk.ui.visit.print_state == "printed", what="the mouse's ticket")
    assert kiosk.ui.visit.ticket.number == "A001"


def test_a_press_that_slides_off_the_button_does_nothing(kiosk):
    x, y = kiosk.ui.button_centre("service:CT")
    w, h = kiosk.surface.get_size()
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, touch_id=0, finger_id=0, x=x / w, y=y / h,
                                         dx=0.0, dy=0.0, pressure=1.0))
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, touch_id=0, finger_id=0, x=0.01, y=0.01,
                                         dx=0.0, dy=0.0, pressure=1.0))
    kiosk.ui.pump(0.05)
    assert kiosk.ui.screen == screens.HOME


def test_keys_script_touches_the_buttons(kiosk, dispatcher, capsys):
    kiosk.ui.notify("keys", "CT nguoi-cao-tuoi")
    kiosk.pump_until(lambda: kiosk.ui.visit.print_state == "printed", what="the scripted ticket")
    assert kiosk.ui.visit.ticket.priority == "Người cao tuổi"
    kiosk.ui.notify("keys", "HT")
    kiosk.pump_until(lambda: kiosk.ui.visit.ticket and kiosk.ui.visit.ticket.number == "B001"
                     and kiosk.ui.visit.print_state == "printed", what="the second scripted ticket")
    kiosk.ui.notify("keys", "XX")
    kiosk.ui.notify("keys", "CT somebody")
    for _ in range(3):
        kiosk.ui.pump(0.02)
    out = capsys.readouterr().out
    assert "cannot do 'XX'" in out and "cannot do 'CT somebody'" in out
    assert dispatcher.snapshot()["site"]["issued"] == 2


def test_the_screen_goes_back_to_the_start_by_itself(kiosk):
    kiosk.ui.return_after_s = 0.2
    kiosk.take("service:CT")
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.HOME, what="the start screen", timeout=3)


def test_an_idle_kiosk_draws_nothing(kiosk):
    kiosk.ui.draw()
    drawn = kiosk.ui.frames_drawn
    for _ in range(5):
        kiosk.ui.pump(0.02)
    assert kiosk.ui.frames_drawn == drawn


# ---------------------------------------------------------------- greyed states and refusals


def test_a_service_at_its_cap_is_greyed(kiosk, connect):
    other = connect("kiosk-2")
    for _ in range(5):
        other.request("take", service="DD")
    kiosk.pump_until(lambda: kiosk.ui.button_centre("service:DD") is None, what="DD greyed")
    button = next(b for b in kiosk.ui.frame().buttons if b.id == "service:DD")
    assert button.style == "disabled" and "Đã hết số hôm nay" in button.en
    assert kiosk.ui.button_centre("service:CT") is not None


def test_day_closed_greys_everything_and_a_late_take_is_explained(kiosk, connect):
    admin = connect("admin")
    admin.request("close")
    kiosk.pump_until(lambda: kiosk.ui.frame().prompt == screens.texts.DAY_CLOSED, what="the closed banner")
    assert all(b.style == "disabled" for b in kiosk.ui.frame().buttons if b.id != "access")
    kiosk.ui._go(screens.TAKING, None)
    kiosk.desk.submit(TakeRequest("CT"))
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.MESSAGE, what="the refusal")
    assert kiosk.ui.visit.message == screens.texts.ERRORS["day_closed"]


def test_outside_hours_is_explained_with_the_hours(kiosk):
    snap = link_snapshot(kiosk.link)
    kiosk.snapshot_override = replace(snap, site={**snap.site, "taking": False})
    frame = kiosk.ui.frame()
    assert frame.prompt_style == "error"
    assert "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ!" in frame.prompt[0]
    assert "00:00–24:00" in frame.prompt[0]
    assert all(b.style == "disabled" for b in frame.buttons if b.id != "access")


def test_one_open_ticket_per_citizen_and_the_elderly_are_offered_priority(kiosk, dispatcher):
    kiosk.ui.notify("scan", CARD)
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.PRIORITY, what="the priority offer")
    assert "60 tuổi" in kiosk.ui.frame().prompt[0]
    kiosk.touch("category:nguoi-cao-tuoi")
    first = kiosk.take("service:CT")
    kiosk.touch("done")
    kiosk.ui.notify("scan", CARD)
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.PRIORITY, what="the second scan")
    kiosk.touch("back")
    kiosk.touch("service:CT")
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.MESSAGE, what="the duplicate refusal")
    assert first.number in kiosk.ui.visit.message[0] and "đã có số" in kiosk.ui.visit.message[0]
    citizens = {r[0] for r in dispatcher.db.execute("SELECT citizen FROM tickets")}
    assert len(citizens) == 1 and "001095012345" not in next(iter(citizens))


def test_a_younger_card_and_a_bad_code(kiosk):
    kiosk.ui.notify("scan", YOUNG_CARD)
    kiosk.pump_until(lambda: kiosk.ui.frame().prompt_style == "ok", what="the card notice")
    assert kiosk.ui.screen == screens.HOME
    assert kiosk.take("service:HT").number == "B001"
    kiosk.touch("done")
    kiosk.ui.notify("scan", "https://shop.example/qr")
    kiosk.pump_until(lambda: kiosk.ui.screen == screens.MESSAGE, what="the bad-code message")
    assert "căn cước / CCCD" in kiosk.ui.visit.message[0]


def test_hub_unreachable_greys_the_screen(kiosk, broker):
    broker.stop()
    kiosk.pump_until(lambda: kiosk.ui.frame().prompt == screens.texts.UNREACHABLE, what="the banner")
    assert all(b.style == "disabled" for b in kiosk.ui.frame().buttons if b.id != "access")
    broker.start()
    kiosk.pump_until(lambda: kiosk.ui.frame().prompt == screens.texts.TOUCH_A_SERVICE, what="reconnection",
                     timeout=20)


def test_a_kiosk_that_never_reached_the_hub(display, broker, dummy_printer):
    link = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site="test-ward")
    made = Kiosk(link, dummy_printer[1])
    frame = made.ui.frame()
    assert frame.screen == "unreachable" and frame.message == screens.texts.UNREACHABLE
    assert made.ui.button_centre("service:CT") is None
    made.stop()


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
    made.touch("service:CT")
    made.pump_until(lambda: made.ui.screen == screens.MESSAGE, what="the give-up message")
    assert made.ui.visit.message == screens.texts.ERRORS["unreachable"]
    first_id = made.desk._unanswered.command_id
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    # The command expired in the broker with the kiosk's wait: what the citizen was told (no
    # number) is what happened. The next touch on CT sends it again and gets A001.
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher back")
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


# ---------------------------------------------------------------- every screen at every size


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshots_of_every_screen(display, dispatcher, connect, dummy_printer, artifacts, size):
    made = Kiosk(connect("kiosk-1"), dummy_printer[1], size=size)
    ui = made.ui
    made.shot(artifacts, "home")
    made.touch("priority")
    made.shot(artifacts, "priority")
    made.touch("category:nguoi-cao-tuoi")
    made.shot(artifacts, "priority_services")
    ui._go(screens.TAKING, None)
    made.shot(artifacts, "taking")
    ui._go(screens.PRIORITY_SERVICES, None)
    made.take("service:CT")
    made.shot(artifacts, "number_printed")
    ui.visit.print_state = "printing"
    made.shot(artifacts, "number_printing")
    ui.visit.print_state = "fault:cover_open"
    made.shot(artifacts, "number_cover_open")
    refusals = [("day_closed", ""), ("outside_hours", ""), ("cap_reached", ""),
                ("duplicate_citizen", "this citizen already holds number A001"), ("unreachable", "")]
    for code, detail in refusals:
        ui.visit.message = screens.texts.refusal(code, detail)
        ui._go(screens.MESSAGE, None)
        made.shot(artifacts, f"refused_{code}")
    ui.go_home()
    ui.notify("scan", CARD)
    made.pump_until(lambda: ui.screen == screens.PRIORITY, what="the elderly offer")
    made.shot(artifacts, "card_elderly")
    ui.go_home()
    ui.visit.citizen = None
    ui.notify("scan", YOUNG_CARD)
    made.pump_until(lambda: ui.frame().prompt_style == "ok", what="the card notice")
    made.shot(artifacts, "card_read")
    ui.notify("scan", "not a card")
    made.pump_until(lambda: ui.screen == screens.MESSAGE, what="the bad-code message")
    made.shot(artifacts, "card_bad")
    ui.go_home()
    snap = link_snapshot(made.link)
    full = {**snap.services, "DD": {**snap.services["DD"], "remaining": 0, "taking": False}}
    for name, variant in [
        ("cap_reached", replace(snap, services=full)),
        ("day_closed", replace(snap, site={**snap.site, "open": False, "taking": False})),
        ("outside_hours", replace(snap, site={**snap.site, "taking": False})),
        ("hub_unreachable", replace(snap, connected=False)),
        ("never_connected", HubSnapshot(False, None, None, {})),
        ("connecting", HubSnapshot(True, None, None, {})),
    ]:
        made.snapshot_override = variant
        made.shot(artifacts, name)
    made.snapshot_override = None
    ui.printer = replace(ui.printer, fault="out_of_paper")
    made.shot(artifacts, "home_printer_warning")
    made.stop()


# ---------------------------------------------------------------- the process, as the demo runs it


def test_luot_kiosk_keys_prints_pngs(dispatcher, broker, site, tmp_path):
    settings = broker.settings("kiosk-2")
    config = write_device_toml(
        tmp_path / "kiosk-2.toml", device_id="kiosk-2", role="kiosk", site=site.id, host=settings.host,
        port=settings.port, password=settings.password,
        extra=f'[kiosk]\nprinter = "png://{tmp_path}/tickets"\nprofile = "POS-5890"\nreturn_after_s = 2\n',
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "luot", "kiosk", "--config", str(config), "--keys", "--size", "800x480",
         "--windowed"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        wait_for(lambda: dispatcher.snapshot() and (tmp_path / "kiosk-2.toml").exists(), what="start")
        process.stdin.write("CT\nHT nguoi-cao-tuoi\nZZ\n")
        process.stdin.flush()
        folder = tmp_path / "tickets"
        wait_for(lambda: folder.exists() and len(list(folder.glob("*.png"))) == 2, timeout=20,
                 what="two ticket PNGs")
        names = sorted(p.name.rsplit("-", 1)[1] for p in folder.glob("*.png"))
        assert names == ["A001.png", "B001.png"]
        assert dispatcher.snapshot()["services"]["HT"]["waiting_priority"] == 1
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "cannot do 'ZZ'" in out


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
