"""Where each part of the board goes, from the screen size and the number of counters.

Landscape: a header, the counter grid on the left, the call being made, the
last calls and the waiting lines on the right, the day's figures and the
scrolling notice at the bottom. Portrait stacks the call, the grid, then the
last calls beside the waiting lines. Sizes follow the shorter screen side, so
the same code serves 720p, 1080p and a TV turned on its side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pygame import Rect


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    unit: int  # the shorter screen side: every font and margin is a fraction of it
    header: Rect
    title: Rect
    status: Rect
    clock: Rect
    current: Rect
    counters_area: Rect
    cards: tuple[Rect, ...]
    recent: Rect
    services: Rect
    figures: Rect
    ticker: Rect

    @property
    def portrait(self) -> bool:
        return self.size[1] > self.size[0]

    @property
    def gap(self) -> int:
        return max(4, self.unit // 120)


def grid(area: Rect, n: int, gap: int, aspect: float = 1.6) -> tuple[Rect, ...]:
    """`n` cards in rows and columns chosen so the cards are as large as they can be."""
    if n <= 0:
        return ()
    best: tuple[float, int] = (-1.0, 1)
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        width = (area.width - gap * (cols - 1)) / cols
        height = (area.height - gap * (rows - 1)) / rows
        score = min(width / aspect, height)
        if score > best[0]:
            best = (score, cols)
    cols = best[1]
    rows = math.ceil(n / cols)
    width = (area.width - gap * (cols - 1)) // cols
    height = (area.height - gap * (rows - 1)) // rows
    return tuple(
        Rect(area.x + (i % cols) * (width + gap), area.y + (i // cols) * (height + gap), width, height)
        for i in range(n)
    )


def compute(size: tuple[int, int], counters: int) -> Layout:
    width, height = size
    unit = min(width, height)
    gap = max(4, unit // 120)
    header = Rect(0, 0, width, round(unit * 0.11))
    ticker = Rect(0, height - round(unit * 0.065), width, round(unit * 0.065))
    figures = Rect(gap, ticker.top - round(unit * 0.075), width - 2 * gap, round(unit * 0.075) - gap)
    body = Rect(gap, header.bottom + gap, width - 2 * gap, figures.top - header.bottom - 2 * gap)
    clock_w = round(width * (0.3 if width > height else 0.36))
    status_w = round(unit * 0.2)
    clock = Rect(width - clock_w - gap, 0, clock_w, header.height)
    status = Rect(clock.left - status_w - gap, 0, status_w, header.height)
    title = Rect(gap * 2, 0, status.left - gap * 3, header.height)
    if width > height:
        side_w = round(body.width * 0.36)
        counters_area = Rect(body.x, body.y, body.width - side_w - gap, body.height)
        side = Rect(counters_area.right + gap, body.y, side_w, body.height)
        current = Rect(side.x, side.y, side.width, round(side.height * 0.34))
        recent = Rect(side.x, current.bottom + gap, side.width, round(side.height * 0.27))
        services = Rect(side.x, recent.bottom + gap, side.width, side.bottom - recent.bottom - gap)
    else:
        current = Rect(body.x, body.y, body.width, round(body.height * 0.2))
        counters_area = Rect(body.x, current.bottom + gap, body.width, round(body.height * 0.5))
        bottom_y = counters_area.bottom + gap
        bottom_h = body.bottom - bottom_y
        half = (body.width - gap) // 2
        recent = Rect(body.x, bottom_y, half, bottom_h)
        services = Rect(recent.right + gap, bottom_y, body.width - half - gap, bottom_h)
    return Layout(
        size=size, unit=unit, header=header, title=title, status=status, clock=clock,
        current=current, counters_area=counters_area, cards=grid(counters_area, counters, gap),
        recent=recent, services=services, figures=figures, ticker=ticker,
    )
