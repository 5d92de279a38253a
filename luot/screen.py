"""What every pygame screen of Lượt shares: a font that draws Vietnamese,
a cache of rendered text, and a way for the MQTT thread to wake the UI.

pygame's default font draws most Vietnamese letters as boxes, and
`match_font` picks a Condensed face, so fonts are named by path. Text is
normalised to NFC first: decomposed diacritics render as loose marks.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pygame

from luot.text import font_path, nfc, wrap_words

# Posted by the MQTT thread; the UI loop takes it at its next look at the event queue.
WAKE_EVENT = pygame.event.custom_type()

Color = tuple[int, int, int]


class TextCache:
    """Rendered text surfaces, least recently used dropped first.

    A 1080p board of 12 rows costs ~9.5 ms uncached and ~1.4 ms cached on a
    laptop, several times more on a Pi: redraws reuse what has not changed.
    """

    def __init__(self, max_items: int = 2048) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._surfaces: OrderedDict[tuple[Any, ...], pygame.Surface] = OrderedDict()
        self._max = max_items

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (size, bold)
        if key not in self._fonts:
            self._fonts[key] = pygame.font.Font(str(font_path(bold)), size)
        return self._fonts[key]

    def render(self, text: str, size: int, color: Color, bold: bool = False) -> pygame.Surface:
        key = (text, size, color, bold)
        surface = self._surfaces.get(key)
        if surface is None:
            surface = self.font(size, bold).render(nfc(text), True, color)
            self._surfaces[key] = surface
            if len(self._surfaces) > self._max:
                self._surfaces.popitem(last=False)
        else:
            self._surfaces.move_to_end(key)
        return surface

    def fit(self, text: str, max_size: int, width: int, color: Color,
            bold: bool = False, min_size: int = 10) -> pygame.Surface:
        """The largest rendering of `text` (at most `max_size` px) that fits `width`."""
        size = max_size
        while size > min_size and self.font(size, bold).size(nfc(text))[0] > width:
            size = max(min_size, int(size * 0.9))
        return self.render(text, size, color, bold)

    def wrap(self, text: str, size: int, width: int, bold: bool = False) -> list[str]:
        """Break `text` into lines no wider than `width`; a word longer than a line is split."""
        font = self.font(size, bold)
        return wrap_words(text, width, lambda t: font.size(t)[0])


def open_screen(size: tuple[int, int] | None, fullscreen: bool) -> pygame.Surface:
    """The display surface: KMSDRM on a Pi console, a window on a laptop, dummy in tests."""
    pygame.display.init()
    pygame.font.init()
    if size is None:
        info = pygame.display.Info()
        size = (info.current_w, info.current_h) if info.current_w > 0 else (1280, 720)
    flags = pygame.FULLSCREEN if fullscreen else 0
    screen = pygame.display.set_mode(size, flags)
    pygame.mouse.set_visible(not fullscreen)
    return screen


def wake(**payload: Any) -> None:
    """From any thread: wake the UI loop with a WAKE_EVENT carrying `payload`."""
    if pygame.display.get_init():
        pygame.event.post(pygame.event.Event(WAKE_EVENT, payload))
