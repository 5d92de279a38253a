"""Text that people read: the font, NFC normalisation and word wrapping, for screens,
tickets, labels and reports alike. No pygame here: a report or a label needs none."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# Vietnamese weekday names, Monday first as `date.weekday()` counts.
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

FONT_CANDIDATES = {
    False: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    ),
    True: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
}


def font_path(bold: bool = False) -> Path:
    """A TrueType font with Vietnamese coverage (Debian fonts-dejavu-core or fonts-noto-core)."""
    override = os.environ.get("LUOT_FONT_BOLD" if bold else "LUOT_FONT")
    candidates = (override,) if override else FONT_CANDIDATES[bold]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "no font with Vietnamese letters: apt-get install fonts-dejavu-core "
        f"(looked for {', '.join(c for c in candidates if c)})"
    )


@lru_cache(maxsize=64)
def pil_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The Vietnamese font for Pillow drawings (tickets, labels, reports), loaded once a size."""
    return ImageFont.truetype(str(font_path(bold)), size)


def nfc(text: str) -> str:
    """Composed Vietnamese letters: decomposed diacritics render as loose marks."""
    return unicodedata.normalize("NFC", text)


def wrap_words(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy word wrap to `width` as `measure` counts it; a word longer than a line is split
    so that nothing is ever cut off."""
    lines: list[str] = []
    line = ""
    for word in nfc(text).split():
        candidate = f"{line} {word}" if line else word
        if measure(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while measure(word) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and measure(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines
