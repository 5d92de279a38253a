"""What a call sounds like, as a list of clip names: pure, so tests read it without audio.

Numbers are read the Vietnamese way (1023 "một nghìn không trăm hai mươi ba",
21 "hai mươi mốt", 15 "mười lăm", 105 "một trăm linh năm"); a letter prefix
is read as the letter, then the number without its leading zeros ("A023" is
"A hai mươi ba"). The English phrase reads the digits one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Vietnamese names of the letters a service prefix may use.
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e-rờ", "S": "ét-xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép",
    "X": "ích-xì", "Y": "i dài", "Z": "dét",
}

ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

CHIME = "chime"
PAUSE = "pause"

# Clip name → what espeak-ng says for it, and in which voice.
PHRASES_VI = {
    "moi-cong-dan": "Mời công dân có số thứ tự",
    "den-quay-so": "đến quầy số",
}
PHRASES_EN = {
    "en-ticket": "Ticket number",
    "en-counter": "please go to counter",
}

_ASCII = str.maketrans(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
    "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd",
)
_NUMBER = re.compile(r"^([A-Z]{0,2})(\d{1,6})$")


def read_number(n: int) -> list[str]:
    """The Vietnamese words for 0 ≤ n ≤ 9999."""
    if not 0 <= n <= 9999:
        raise ValueError(f"can read 0 to 9999, not {n}")
    if n == 0:
        return ["không"]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += [DIGITS[thousands], "nghìn"]
        if rest:
            words += _hundreds(rest, inner=True)
        return words
    return _hundreds(rest, inner=False)


def _hundreds(n: int, inner: bool) -> list[str]:
    """1–999; `inner` when a larger unit came before, so "không trăm" and "linh" are said."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or inner:
        words += [DIGITS[hundreds], "trăm"]
        if rest and rest < 10:
            return [*words, "linh", DIGITS[rest]]
    if rest:
        words += _tens(rest)
    return words


def _tens(n: int) -> list[str]:
    """1–99."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return [DIGITS[unit]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 5:
        return [*words, "lăm"]
    if tens >= 2 and unit == 1:
        return [*words, "mốt"]
    if tens >= 2 and unit == 4:
        return [*words, "tư"]
    return [*words, DIGITS[unit]]


def read_ticket_value(value: int) -> list[str]:
    """A ticket's number as words; past 9999 (a high number block) digit by digit."""
    if value > 9999:
        return [DIGITS[int(d)] for d in str(value)]
    return read_number(value)


def clip_name(word: str) -> str:
    """The file name (without .wav) of a Vietnamese word's clip: ASCII, tones kept apart.

    "mười" and "mươi", "một" and "mốt" differ only by tone, so the tone mark is
    kept as a suffix where the plain letters would collide.
    """
    plain = word.lower().translate(_ASCII).replace(" ", "-")
    return f"vi-{plain}" + _TONE_SUFFIX.get(word, "")


_TONE_SUFFIX = {"mười": "-huyen", "mươi": "-ngang", "một": "-nang", "mốt": "-sac"}


def letter_clip(letter: str) -> str:
    return f"letter-{letter.lower()}"


def split_number(number: str) -> tuple[str, int]:
    """"A023" → ("A", 23); "3005" → ("", 3005). Raises ValueError on anything else."""
    match = _NUMBER.match(number)
    if match is None:
        raise ValueError(f"cannot read ticket number {number!r}")
    return match.group(1), int(match.group(2))


def vietnamese_call(number: str, counter: int) -> list[str]:
    """Clip names of "Mời công dân có số thứ tự <number> đến quầy số <counter>"."""
    prefix, value = split_number(number)
    clips = ["moi-cong-dan"]
    clips += [letter_clip(letter) for letter in prefix]
    clips += [clip_name(w) for w in read_ticket_value(value)]
    clips += ["den-quay-so"]
    clips += [clip_name(w) for w in read_number(counter)]
    return clips


def english_call(number: str, counter: int) -> list[str]:
    """Clip names of "Ticket number A 0 2 3, please go to counter 5"."""
    prefix, _ = split_number(number)
    digits = number[len(prefix):]
    clips = ["en-ticket"]
    clips += [f"en-letter-{letter.lower()}" for letter in prefix]
    clips += [f"en-{ENGLISH_DIGITS[int(d)]}" for d in digits]
    clips += ["en-counter"]
    clips += [f"en-{ENGLISH_DIGITS[int(d)]}" for d in str(counter)]
    return clips


@dataclass(frozen=True)
class CallSpeech:
    """How a site wants calls said: `repeat` times, with the English phrase or not."""

    repeat: int = 2
    english: bool = False

    def clips(self, number: str, counter: int) -> list[str]:
        """The whole announcement: a chime, then the phrase(s), repeated, pauses between."""
        once = vietnamese_call(number, counter)
        if self.english:
            once = [*once, PAUSE, *english_call(number, counter)]
        clips = [CHIME]
        for i in range(self.repeat):
            if i:
                clips.append(PAUSE)
            clips += once
        return clips


def voice_clips() -> dict[str, tuple[str, str]]:
    """Every clip a call can use: name → (espeak-ng voice, text to say)."""
    clips: dict[str, tuple[str, str]] = {}
    for name, text in PHRASES_VI.items():
        clips[name] = ("vi", text)
    for word in (*DIGITS, "mười", "mươi", "mốt", "tư", "lăm", "linh", "trăm", "nghìn"):
        clips[clip_name(word)] = ("vi", word)
    for letter, spoken in LETTERS.items():
        clips[letter_clip(letter)] = ("vi", spoken)
    for name, text in PHRASES_EN.items():
        clips[name] = ("en", text)
    for digit in ENGLISH_DIGITS:
        clips[f"en-{digit}"] = ("en", digit)
    for letter in LETTERS:
        clips[f"en-letter-{letter.lower()}"] = ("en", letter)
    return clips
