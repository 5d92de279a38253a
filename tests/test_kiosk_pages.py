"""The kiosk's service buttons stay legible whatever the number of fields and the screen:
they go into pages, every field on one of them, names at a size read at arm's length."""

from __future__ import annotations

import time

import pygame
import pytest

from kiosk import ui as screens
from kiosk.desk import TakeRequest
from kiosk.painter import MIN_NAME_EN_U, MIN_NAME_U
from kiosk.screens import HubSnapshot
from kiosk.ui import KioskUI
from luot import EXAMPLE_SITE
from luot.config import load_site

SIZES = [(800, 480), (1024, 600), (1280, 800), (1080, 1920), (1920, 1080)]
MORE_FIELDS = [
    ("TP", "Tư pháp", "Justice"), ("NV", "Nội vụ, tôn giáo", "Home affairs and religion"),
    ("TC", "Tài chính, kế hoạch", "Finance and planning"),
    ("GD", "Giáo dục và đào tạo", "Education and training"),
    ("YT", "Y tế, dân số", "Health and population"),
    ("VH", "Văn hóa, thể thao và du lịch", "Culture, sports and tourism"),
    ("TN", "Tài nguyên và môi trường", "Natural resources and environment"),
    ("NN", "Nông nghiệp và phát triển nông thôn", "Agriculture and rural development"),
    ("CN", "Công thương", "Industry and trade"), ("KH", "Khoa học và công nghệ", "Science and technology"),
    ("TT", "Thông tin và truyền thông", "Information and communications"),
    ("DT", "Dân tộc", "Ethnic affairs"), ("QS", "Quân sự, quốc phòng", "Military service"),
]


def catalogue(fields: int) -> dict:
    """The example ward's catalogue with `fields` fields (its eight, then more with long names)."""
    made = load_site(EXAMPLE_SITE).catalogue()
    extra = [{"code": c, "name": vi, "name_en": en} for c, vi, en in MORE_FIELDS]
    made["services"] = (made["services"] + extra)[:fields]
    assert len(made["services"]) == fields
    return made


def assert_legible(ui: KioskUI, button, size) -> None:
    rect, blocks = ui.painter.button_text(button)
    lines, _ = ui.painter.fitted(rect, blocks)
    plain_u = min(size) / 20
    for text, px, bold, colour, _ in lines:
        least = plain_u * (MIN_NAME_U if bold else MIN_NAME_EN_U)
        assert px >= least - 0.5, f"{text!r} drawn at {px} px at {size}"
        width = ui.painter.text.render(text, px, colour, bold).get_width()
        assert width <= rect[2], f"{text!r} leaves its button"
        source = button.vi if bold else button.en
        assert len(text.split()) > 1 or len(source.split()) == 1, f"{text!r} alone on its line of {source!r}"
    _, last_px, last_bold, _, last_dy = lines[-1]
    assert last_dy + ui.painter.text.font(last_px, last_bold).get_linesize() <= rect[3] + 1


def walk_pages(ui: KioskUI, prefix: str, size, shot: str | None = None) -> list[str]:
    """The choices of every page of this screen, each checked legible, turning the pages."""
    seen: list[str] = []
    for page in range(30):
        frame = ui.frame()
        choices = [b for b in frame.buttons if b.id.startswith(prefix)]
        assert choices, f"page {page + 1} is empty"
        for button in choices:
            assert_legible(ui, button, size)
        seen += [b.id.split(":", 1)[1] for b in choices]
        if page == 0 and shot:
            ui.draw(force=True)
            pygame.image.save(ui.surface, shot)
        more = next((b for b in frame.buttons if b.id == "page:next"), None)
        if more is None or more.style == "disabled":
            break
        ui.activate("page:next")
    return seen


@pytest.mark.parametrize("fields", [8, 14, 21])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_field_is_on_a_page_and_every_button_is_legible(display, artifacts, size, fields):
    cat = catalogue(fields)
    snap = HubSnapshot(True, cat, {"open": True, "taking": True}, {})
    ui = KioskUI(pygame.display.set_mode(size), lambda: snap, lambda _r: None)
    shot = artifacts / f"kiosk_home_{fields}_fields_{size[0]}x{size[1]}.png"
    assert walk_pages(ui, "service:", size, str(shot)) == [s["code"] for s in cat["services"]]
    ui.activate("priority")
    assert ui.screen == screens.PRIORITY
    groups = walk_pages(ui, "category:", size)
    assert groups == [c["code"] for c in cat["priority"]["categories"]]


def test_the_keys_script_turns_pages_to_a_field_on_the_last_one(display):
    cat = catalogue(21)
    snap = HubSnapshot(True, cat, {"open": True, "taking": True}, {})
    taken: list[TakeRequest] = []
    ui = KioskUI(pygame.display.set_mode((800, 480)), lambda: snap, taken.append)
    assert ui.button_centre("service:QS") is None, "the last field is not on the first page"
    ui.notify("keys", "QS")
    deadline = time.monotonic() + 5
    while not taken and time.monotonic() < deadline:
        ui.pump(0.02)
    assert taken == [TakeRequest("QS")]
