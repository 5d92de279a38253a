"""Taking numbers by touch at the kiosk, and the greyed states and refusals it explains."""

from __future__ import annotations

from dataclasses import replace

import pygame
from kiosk_rig import CARD, CUT, RASTER, YOUNG_CARD, Kiosk

from kiosk import ui as screens
from kiosk.desk import TakeRequest
from kiosk.screens import link_snapshot
from luot.mqtt import HubLink

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
