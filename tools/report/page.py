"""Drawing on a report page with Pillow: colours, text that fits, headings, numbers."""

from __future__ import annotations

import math

from PIL import ImageDraw

from luot.text import nfc, pil_font

PAGE_W = 1240
MARGIN = 56
LABEL_W = 330
INK = (33, 37, 41)
GREY = (108, 117, 125)
RULE = (222, 226, 230)
MEAN = (116, 169, 230)
P90 = (24, 92, 170)
TARGET = (200, 40, 40)
BUSY = (46, 139, 87)
IDLE = (206, 212, 218)
SERVICE_COLOURS = [
    (24, 92, 170), (230, 126, 34), (46, 139, 87), (155, 89, 182), (192, 57, 43),
    (22, 160, 133), (241, 196, 15), (127, 140, 141), (52, 73, 94), (211, 84, 0),
]
RATING_COLOURS = {5: (39, 174, 96), 4: (130, 200, 100), 3: (241, 196, 15), 2: (230, 126, 34),
                  1: (192, 57, 43)}


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
          colour: tuple[int, int, int] = INK, bold: bool = False, anchor: str = "la") -> float:
    """Draw NFC text; return its width."""
    font = pil_font(size, bold)
    text = nfc(text)
    draw.text(xy, text, font=font, fill=colour, anchor=anchor)
    return draw.textlength(text, font=font)


def fit_text(draw: ImageDraw.ImageDraw, text: str, size: int, width: float, bold: bool = False) -> str:
    """`text`, shortened with an ellipsis so it fits `width`."""
    text = nfc(text)
    font = pil_font(size, bold)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def heading(draw: ImageDraw.ImageDraw, y: float, vi: str, en: str) -> float:
    draw.line([(MARGIN, y), (PAGE_W - MARGIN, y)], fill=RULE, width=2)
    draw_text(draw, (MARGIN, y + 14), vi, 26, bold=True)
    draw_text(draw, (MARGIN, y + 48), en, 18, GREY)
    return y + 84


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.1f}{unit}".replace(".", ",")


def scale_max(values: list[float]) -> float:
    top = max([v for v in values if v] or [1.0])
    step = 10 ** math.floor(math.log10(top)) if top > 0 else 1
    return math.ceil(top / step * 1.05) * step if top > 0 else 1.0
