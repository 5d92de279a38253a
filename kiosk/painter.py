"""Drawing a kiosk `Frame` with pygame: the header, prompt, buttons, number and messages.

Text is wrapped and shrunk until it fits its box; the fitted lines of the boxes the
screens show again and again are kept, so a redraw measures nothing it measured before.
"""

from __future__ import annotations

import re

import pygame

from kiosk import texts
from kiosk.layout import Layout, Rect
from kiosk.screens import Button, Frame, page_slices
from kiosk.texts import Bilingual
from kiosk.ticket import wait_text
from luot.screen import Color, TextCache
from luot.text import nfc

PAGE: Color = (245, 245, 240)
INK: Color = (33, 33, 33)
WHITE: Color = (255, 255, 255)
HEADER: Color = (13, 71, 161)
STYLES: dict[str, tuple[Color, Color]] = {  # background, text
    "service": ((21, 101, 192), WHITE),
    "priority": ((191, 54, 12), WHITE),
    "disabled": ((189, 189, 189), (80, 80, 80)),
    "back": ((84, 110, 122), WHITE),
    "pressed": ((255, 193, 7), INK),
    "normal": (PAGE, INK),
    "ok": ((200, 230, 201), (27, 94, 32)),
    "warn": ((255, 236, 179), (93, 64, 0)),
    "error": ((255, 205, 210), (150, 20, 20)),
    "access": ((255, 214, 0), (0, 0, 0)),  # black on yellow: the read-aloud switch
    "armed": ((255, 214, 0), (0, 0, 0)),  # read aloud once; touched again, it acts
}
TEXT_CACHE_ITEMS = 64
# The smallest a service's name may be drawn, in twentieths of the screen's short side:
# 19 px (tone marks apart) and 12 px for the English on the 800x480 Pi display.
MIN_NAME_U = 0.8
MIN_NAME_EN_U = 0.5

Block = tuple[str, float, bool, Color]
Line = tuple[str, int, bool, Color, int]


class Painter:
    """Draws frames on one surface."""

    def __init__(self, surface: pygame.Surface, scale: float = 1.0) -> None:
        self.surface = surface
        self.layout = Layout(*surface.get_size(), scale)
        # Sized to what the screens show (a few dozen lines each), not to a day's worth of
        # clock minutes and numbers: each surface of a large screen is tens to hundreds of KB.
        self.text = TextCache(max_items=TEXT_CACHE_ITEMS)
        self._fit_cache: dict[tuple[object, ...], tuple[list[Line], float]] = {}

    def render(self, frame: Frame) -> None:
        lay = self.layout
        s = self.surface
        s.fill(PAGE)
        u = lay.u
        hx, hy, hw, hh = lay.header()
        pygame.draw.rect(s, HEADER, lay.header())
        if any(b.id == "access" for b in frame.buttons):  # the title keeps clear of the switch
            side = lay.access_button()[2] + lay.gap
            hx, hw = hx + side, hw - 2 * side
        self.box((hx + lay.margin, hy, hw - 2 * lay.margin, hh),
                  [(frame.title[0], u * 1.25, True, WHITE),
                   (frame.title[1], u * 0.7, False, (200, 220, 255))])
        self.box(lay.footer(), [(frame.footer, u * 0.7, False, (90, 90, 90))], volatile=True)
        if frame.prompt is not None:
            tall = frame.prompt_style != "normal"
            self.panel(lay.prompt(tall), frame.prompt, frame.prompt_style, u * (1.2 if tall else 1.0))
        grid = [b for b in frame.buttons if b.id.startswith(("service:", "category:"))]
        scale = min((self.fitted(*self.button_text(b))[1] for b in grid), default=1.0)
        for button in frame.buttons:
            self.button(button, button.id == frame.pressed, scale if button in grid else 1.0)
        if frame.screen == "unreachable" and frame.message:
            body = lay.body(with_bottom_button=False)
            self.panel(body, frame.message, frame.message_style, u * 1.6)
        elif frame.number is not None:
            self.number(frame)
        elif frame.message is not None:
            with_button = bool(frame.buttons)
            self.panel(lay.body(with_bottom_button=with_button), frame.message, frame.message_style, u * 1.6)

    def number(self, frame: Frame) -> None:
        """The number, as large as the screen allows, with its details and the printing state.

        On a wide screen the number takes the left half and the details the right; on a
        narrow or portrait one they are stacked."""
        lay = self.layout
        u = lay.u
        info = frame.number
        assert info is not None
        x, top, w, _ = lay.prompt()
        bottom = lay.bottom_button()[1] - lay.gap
        status_h = round(u * 3.2)
        content_h = bottom - status_h - lay.gap - top
        wide = lay.width > lay.height * 1.3
        if wide:
            half = (w - lay.gap) // 2
            number_area: Rect = (x, top, half, content_h)
            details_area: Rect = (x + half + lay.gap, top, half, content_h)
        else:
            number_h = round(content_h * 0.5)
            number_area = (x, top, w, number_h)
            details_area = (x, top + number_h, w, content_h - number_h)
        nx, ny, nw, nh = number_area
        label_h = round(u * 2.2)
        self.box((nx, ny, nw, label_h),
                  [(texts.YOUR_NUMBER[0], u * 1.2, True, INK), (texts.YOUR_NUMBER[1], u * 0.75, False, INK)])
        # Sized for the widest number of this shape ("A001" → "M888"), so every number of a
        # service is drawn at one size and only a font or two of this height is ever loaded.
        # Measured once at 100 px and scaled: each font size loaded keeps glyph bitmaps of its
        # own, which at these sizes are hundreds of KB a digit.
        shape = re.sub(r"[A-Z]", "M", re.sub(r"\d", "8", info.number))
        width_at_100 = self.text.font(100, True).size(shape)[0]
        size = min(round((nh - label_h) * 1.25), int(100 * nw * 0.97 / width_at_100))
        digits = self.text.font(size, True).render(info.number, True, (183, 28, 28))  # not kept: MBs
        self.surface.blit(digits, (nx + (nw - digits.get_width()) // 2,
                                   ny + label_h + (nh - label_h - digits.get_height()) // 2))
        wait_vi, wait_en = wait_text(info.est_wait_min)
        lines = [(info.service, u * 1.5, True, INK), (info.service_en, u * 0.8, False, INK)]
        if info.priority:
            lines.append((f"Ưu tiên: {info.priority}", u * 1.0, True, STYLES["priority"][0]))
        lines += [
            (texts.AHEAD[0].format(n=info.ahead), u * 1.2, True, INK),
            (texts.AHEAD[1].format(n=info.ahead), u * 0.8, False, INK),
            (wait_vi, u * 1.0, False, INK),
            (wait_en, u * 0.75, False, INK),
        ]
        self.box(details_area, lines, volatile=True)
        if frame.print_state == "printed":
            status, style = texts.PRINTED, "ok"
        elif frame.print_state.startswith("fault:"):
            vi, en = texts.PRINTER_FAULTS.get(frame.print_state[6:], texts.PRINTER_FAULT)
            status, style = (f"{vi}. {texts.NOT_PRINTED[0]}", f"{en}. {texts.NOT_PRINTED[1]}"), "error"
        else:
            status, style = texts.PRINTING, "warn"
        self.panel((x, bottom - status_h, w, status_h), status, style, u * 1.1)

    def panel(self, rect: Rect, text: Bilingual, style: str, size: float) -> None:
        background, ink = STYLES[style]
        if style != "normal":
            pygame.draw.rect(self.surface, background, rect, border_radius=round(self.layout.u * 0.4))
        pad = round(self.layout.u * 0.4)
        x, y, w, h = rect
        self.box((x + pad, y + pad // 2, w - 2 * pad, h - pad),
                  [(text[0], size, True, ink), (text[1], size * 0.65, False, ink)])

    def button_text(self, button: Button) -> tuple[Rect, list[Block]]:
        ink = STYLES[button.style][1]
        u = self.layout.u
        x, y, w, h = button.rect
        pad = round(u * 0.4)
        return (x + pad, y + pad // 2, w - 2 * pad, h - pad), [
            (button.vi, min(u * 1.4, h * 0.4), True, ink),
            (button.en, min(u * 0.8, h * 0.22), False, ink),
        ]

    def button(self, button: Button, pressed: bool, scale: float) -> None:
        """A button; buttons of one grid share `scale` so their names are the same size."""
        background = STYLES["pressed" if pressed else button.style][0]
        pygame.draw.rect(self.surface, background, button.rect, border_radius=round(self.layout.u * 0.5))
        rect, blocks = self.button_text(button)
        if pressed:
            blocks = [(text, size, bold, STYLES["pressed"][1]) for text, size, bold, _ in blocks]
        self.box(rect, blocks, scale)

    def box(self, rect: Rect, blocks: list[Block], scale: float = 1.0,
             *, volatile: bool = False) -> None:
        """Blocks of text centred in `rect`, wrapped, and shrunk together until all of it fits.

        Volatile text (a ticket's details, the clock) is drawn without keeping its surfaces,
        so the cache holds only what the screens show again and again."""
        x, y, w, _ = rect
        lines, _ = self.fitted(rect, blocks, scale, keep=not volatile)
        for text, size, bold, color, dy in lines:
            if volatile:
                surface = self.text.font(size, bold).render(nfc(text), True, color)
            else:
                surface = self.text.render(text, size, color, bold)
            self.surface.blit(surface, (x + (w - surface.get_width()) // 2, y + dy))

    def fitted(self, rect: Rect, blocks: list[Block], scale: float = 1.0,
                keep: bool = True) -> tuple[list[Line], float]:
        """The wrapped lines (text, size, bold, colour, y) and the scale at which they fit."""
        key = (tuple(blocks), rect[2], rect[3], scale)
        found = self._fit_cache.get(key)
        if found is None:
            found = self._fit_blocks(blocks, rect[2], rect[3], scale)
            if keep:
                if len(self._fit_cache) > TEXT_CACHE_ITEMS:
                    self._fit_cache.clear()
                self._fit_cache[key] = found
        return found

    def _balanced_wrap(self, text: str, px: int, w: int, bold: bool) -> list[str]:
        """Wrapped into as few lines as fit `w`, of widths as even as can be: the narrowest
        width that needs no more lines, so a wrap does not leave a word alone on its line."""
        lines = self.text.wrap(text, px, w, bold)
        if len(lines) < 2:
            return lines
        low, high = 1, w
        while low < high:
            mid = (low + high) // 2
            if len(self.text.wrap(text, px, mid, bold)) <= len(lines):
                high = mid
            else:
                low = mid + 1
        return self.text.wrap(text, px, low, bold)

    def legible(self, rect: Rect, vi: str, en: str) -> bool:
        """Whether a service button of this size shows both its names at a size read at arm's
        length (tone marks apart), no word left alone on a line of its own."""
        box, blocks = self.button_text(Button("", rect, vi, en, "service"))
        lines, _ = self.fitted(box, blocks, keep=False)
        plain_u = min(self.layout.width, self.layout.height) / 20 * self.layout.scale
        for text, size, bold, _, _ in lines:
            if size < plain_u * (MIN_NAME_U if bold else MIN_NAME_EN_U):
                return False
            source = vi if bold else en
            if len(text.split()) == 1 and len(source.split()) > 1:
                return False
        return True

    def pages_needed(self, names: list[tuple[str, str]], area: Rect) -> int:
        """The fewest pages of service buttons in `area` in which every button is legible."""
        for pages in range(1, len(names) + 1):
            if all(self.legible(cell, *names[i])
                   for page in page_slices(len(names), pages)
                   for i, cell in zip(page, self.layout.grid(len(page), area), strict=True)):
                return pages
        return max(1, len(names))

    def _fit_blocks(self, blocks: list[Block], w: int, h: int,
                    scale: float) -> tuple[list[Line], float]:
        while True:
            placed: list[Line] = []
            total = 0
            for text, size, bold, color in blocks:
                if not text:
                    continue
                px = max(8, round(size * scale))
                line_h = self.text.font(px, bold).get_linesize()
                for line in self._balanced_wrap(text, px, w, bold):
                    placed.append((line, px, bold, color, total))
                    total += line_h
            if total <= h or scale < 0.2:
                offset = max(0, (h - total) // 2)
                return [(t, s, b, c, dy + offset) for t, s, b, c, dy in placed], scale
            scale *= 0.9
