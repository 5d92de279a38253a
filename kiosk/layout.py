"""Where things go on the kiosk screen, computed from its size alone.

One unit `u` (a twentieth of the short side) sizes margins, bars and text,
so the 800×480 Pi display, a 1080×1920 portrait kiosk and a 1920×1080
landscape screen all come from the same rules. Buttons are laid out in the
grid whose cells give the largest readable text for the number of choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    scale: float = 1.0  # larger for the read-aloud mode's large text

    @property
    def u(self) -> float:
        """The unit: a twentieth of the short side, a third more on a tall portrait screen."""
        portrait = self.height > self.width * 1.2
        return min(self.width, self.height) / 20 * (1.3 if portrait else 1.0) * self.scale

    @property
    def margin(self) -> int:
        return round(self.u * 0.6)

    @property
    def gap(self) -> int:
        return round(self.u * 0.45)

    def header(self) -> Rect:
        return (0, 0, self.width, round(self.u * 3.2))

    def footer(self) -> Rect:
        h = round(self.u * 1.1)
        return (0, self.height - h, self.width, h)

    def prompt(self, tall: bool = False) -> Rect:
        """The line that says what to do, or (tall) what is wrong."""
        top = self.header()[3] + self.gap
        return (self.margin, top, self.width - 2 * self.margin, round(self.u * (3.4 if tall else 2.4)))

    def access_button(self) -> Rect:
        """The read-aloud switch, at the right of the header where a citizen looks first."""
        _, y, w, h = self.header()
        bw = round(min(w * 0.3, self.u * 7.5))
        pad = round(h * 0.14)
        return (w - self.margin - bw, y + pad, bw, h - 2 * pad)

    def bottom_button(self) -> Rect:
        """The full-width button above the footer: the priority path, or Back."""
        h = round(self.u * 2.6)
        y = self.footer()[1] - self.gap - h
        return (self.margin, y, self.width - 2 * self.margin, h)

    def body(self, with_bottom_button: bool = True, tall_prompt: bool = False) -> Rect:
        """The space between the prompt and the bottom button (or the footer)."""
        _, prompt_top, _, prompt_h = self.prompt(tall_prompt)
        top = prompt_top + prompt_h + self.gap
        bottom = self.bottom_button()[1] if with_bottom_button else self.footer()[1]
        return (self.margin, top, self.width - 2 * self.margin, bottom - self.gap - top)

    def grid(self, count: int, area: Rect) -> list[Rect]:
        """`count` cells in `area`, in the column count that gives the largest text."""
        if count <= 0:
            return []
        ax, ay, aw, ah = area
        g = self.gap
        best: tuple[float, int] = (-1.0, 1)
        for cols in range(1, min(count, 4) + 1):
            rows = math.ceil(count / cols)
            bw = (aw - (cols - 1) * g) / cols
            bh = (ah - (rows - 1) * g) / rows
            score = min(bw / 8.0, bh / 2.6)
            if score > best[0] + 0.5:
                best = (score, cols)
        cols = best[1]
        rows = math.ceil(count / cols)
        bw = (aw - (cols - 1) * g) / cols
        bh = min((ah - (rows - 1) * g) / rows, self.u * 5)
        used_h = rows * bh + (rows - 1) * g
        top = ay + (ah - used_h) / 2
        cells: list[Rect] = []
        for i in range(count):
            row, col = divmod(i, cols)
            in_row = min(cols, count - row * cols)
            left = ax + (aw - (in_row * bw + (in_row - 1) * g)) / 2
            cells.append((round(left + col * (bw + g)), round(top + row * (bh + g)), round(bw), round(bh)))
        return cells
