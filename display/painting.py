"""Painting text and panels on the hallway board: the one size that fits, two balanced
lines rather than a lone word, a rounded panel with its title, text made opaque to scroll."""

from __future__ import annotations

import pygame
from pygame import Rect

from display.layout import Layout
from luot.screen import Color, TextCache

BACKGROUND: Color = (10, 28, 56)
MUTED: Color = (150, 170, 200)
TEXT: Color = (240, 244, 250)


class BoardPainter:
    """What the board's regions draw with; `TvBoard` sets the screen, text cache and layout."""

    screen: pygame.Surface
    text: TextCache
    layout: Layout

    def _put(self, text: str, size: int, color: Color, rect: Rect, *, bold: bool = False,
             align: str = "center", y: int | None = None) -> Rect:
        """Blit `text` as large as `size` allows within `rect`'s width; centred on `y` or the rect."""
        surface = self.text.fit(text, size, rect.width, color, bold)
        where = surface.get_rect()
        where.centery = rect.centery if y is None else y
        if align == "left":
            where.left = rect.left
        elif align == "right":
            where.right = rect.right
        else:
            where.centerx = rect.centerx
        return self.screen.blit(surface, where)

    def _common_size(self, cells: list[tuple[str, int]], size: int, bold: bool = False) -> int:
        """The largest size up to `size` at which every (text, width) cell fits: one size per row."""
        while size > 10 and any(self.text.font(size, bold).size(t)[0] > w for t, w in cells):
            size -= 1
        return size

    def _put_lines(self, text: str, size: int, color: Color, rect: Rect, *, bold: bool = False,
                   align: str = "center", y: int | None = None, max_lines: int = 2) -> None:
        """Like `_put`, but a text too wide for one line is wrapped onto up to `max_lines` smaller lines."""
        if self.text.font(size, bold).size(text)[0] <= rect.width:
            self._put(text, size, color, rect, bold=bold, align=align, y=y)
            return
        small = max(10, round(size * 0.78))
        lines = self.text.wrap(text, small, rect.width, bold)
        while len(lines) > max_lines and small > 10:
            small -= 1
            lines = self.text.wrap(text, small, rect.width, bold)
        if len(lines) > max_lines:
            lines = [*lines[:max_lines - 1], " ".join(lines[max_lines - 1:])]
        elif len(lines) == 2:
            lines = self._balanced(text, small, bold)
        centre = rect.centery if y is None else y
        line_h = round(self.text.font(small, bold).get_linesize() * 0.95)
        top = centre - line_h * (len(lines) - 1) // 2
        for i, line in enumerate(lines):
            self._put(line, small, color, rect, bold=bold, align=align, y=top + i * line_h)

    def _panel(self, rect: Rect, color: Color, title: str, title_color: Color = MUTED) -> Rect:
        """A rounded panel with a title line; the rectangle left for its content."""
        self.screen.fill(BACKGROUND, rect)
        pygame.draw.rect(self.screen, color, rect, border_radius=self.layout.gap * 2)
        pad = self.layout.gap * 2
        title_h = round(self.layout.unit * 0.045)
        title_rect = Rect(rect.x + pad, rect.y, rect.width - 2 * pad, title_h)
        self._put(title, round(title_h * 0.62), title_color, title_rect, bold=True, align="left")
        return self._panel_area(rect)

    def _panel_area(self, rect: Rect) -> Rect:
        pad = self.layout.gap * 2
        title_h = round(self.layout.unit * 0.045)
        return Rect(rect.x + pad, rect.y + title_h, rect.width - 2 * pad, rect.height - title_h - pad // 2)

    # ------------------------------------------------------------------ regions

    def _balanced(self, text: str, size: int, bold: bool = True) -> list[str]:
        """Two lines of about the same width, rather than a long line and a lone word."""
        font = self.text.font(size, bold)
        words = text.split()
        if len(words) < 2:
            return [text]
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        return list(min(splits, key=lambda pair: max(font.size(pair[0])[0], font.size(pair[1])[0])))

    def _opaque(self, text: str, size: int, background: Color) -> pygame.Surface:
        """`text` drawn once onto its background: moving it is then a plain copy, no blending."""
        if not text:
            return pygame.Surface((0, 0))
        rendered = self.text.render(text, size, TEXT)
        surface = pygame.Surface(rendered.get_size()).convert(self.screen)
        surface.fill(background)
        surface.blit(rendered, (0, 0))
        return surface
