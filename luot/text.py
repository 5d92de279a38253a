"""Text that people read: NFC normalisation and word wrapping, for screens and tickets alike."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable


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
