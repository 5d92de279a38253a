"""The read-aloud mode: a marked switch, large text, each touch said before it acts, the
number said when it is given, in espeak-ng's Vietnamese voice (the board's)."""

from __future__ import annotations

import wave
from datetime import datetime

import pygame
import pytest
from helpers import wait_for

from kiosk import desk
from kiosk import ui as screens
from kiosk.desk import TakeRequest
from kiosk.reader import Reader, number_words
from kiosk.screens import HubSnapshot
from kiosk.ticket import TicketInfo
from kiosk.ui import KioskUI
from luot import EXAMPLE_SITE
from luot.config import load_site


@pytest.fixture
def reader(tmp_path):
    made = Reader(tmp_path / "voice")
    yield made
    made.stop()


def said(reader: Reader, words: str) -> None:
    wait_for(lambda: any(words in s for s in reader.said), timeout=20, what=f"{words!r} said")


def name_px(ui: KioskUI, button_id: str) -> int:
    button = next(b for b in ui.frame().buttons if b.id == button_id)
    lines, _ = ui.painter.fitted(*ui.painter.button_text(button))
    return max(px for _, px, bold, _, _ in lines if bold)


def test_numbers_are_read_the_vietnamese_way():
    assert number_words("A023") == "a hai mươi ba"
    assert number_words("3005") == "ba nghìn không trăm linh năm"


def test_read_aloud_says_each_touch_then_acts_and_says_the_number(display, reader, tmp_path, artifacts):
    catalogue = load_site(EXAMPLE_SITE).catalogue()
    snap = HubSnapshot(True, catalogue, {"open": True, "taking": True}, {})
    taken: list[TakeRequest] = []
    ui = KioskUI(pygame.display.set_mode((800, 480)), lambda: snap, taken.append, reader=reader)
    switch = next(b for b in ui.frame().buttons if b.id == "access")
    assert switch.style == "access" and switch.vi == "Đọc to, chữ lớn"
    normal = name_px(ui, "service:CT")
    ui.activate("access")
    assert ui.visit.read_aloud and ui.screen == screens.HOME
    assert name_px(ui, "service:CT") >= normal * 1.2, "large text"
    said(reader, "Đã bật chế độ đọc to")
    assert "Chứng thực" in reader.said[-1]
    ui.draw(force=True)
    pygame.image.save(ui.surface, artifacts / "kiosk_read_aloud_800x480.png")

    ui.activate("service:CT")
    assert not taken, "the first touch is only said"
    assert next(b for b in ui.frame().buttons if b.id == "service:CT").style == "armed"
    said(reader, "Chứng thực. Chạm lần nữa để lấy số.")
    ui.activate("service:CT")
    assert taken == [TakeRequest("CT")] and ui.screen == screens.TAKING

    info = TicketInfo("", "", "A023", "Chứng thực", "Certification", None, None, datetime.now(), 3, 12, None)
    ui._on_wake(desk.ISSUED, info)
    said(reader, "Số thứ tự của quý vị là a hai mươi ba, lĩnh vực Chứng thực. Số người chờ trước: 3.")
    clips = list((tmp_path / "voice").glob("*.wav"))
    assert clips, "espeak-ng made the sentences"
    with wave.open(str(clips[0])) as clip:
        assert clip.getnframes() > 1000
    ui.activate("done")
    assert not ui.visit.read_aloud, "the next citizen starts with the usual screen"
