"""The Vietnamese reading of numbers and the clips of a call: pure functions, no audio."""

from __future__ import annotations

import pytest

from luot.speech import (
    CHIME,
    DIGITS,
    PAUSE,
    CallSpeech,
    clip_name,
    english_call,
    read_number,
    split_number,
    vietnamese_call,
    voice_clips,
)

# Written by hand from the rules: mốt after "mươi" (21) but một after "mười" (11) and
# "linh" (101); tư after "mươi" (24) but bốn elsewhere (14, 104); lăm after a tens word
# (15, 25) but năm after "linh" (105) and alone; "không trăm" inside thousands.
KNOWN = {
    0: "không",
    1: "một",
    4: "bốn",
    5: "năm",
    9: "chín",
    10: "mười",
    11: "mười một",
    14: "mười bốn",
    15: "mười lăm",
    19: "mười chín",
    20: "hai mươi",
    21: "hai mươi mốt",
    24: "hai mươi tư",
    25: "hai mươi lăm",
    30: "ba mươi",
    41: "bốn mươi mốt",
    44: "bốn mươi tư",
    55: "năm mươi lăm",
    99: "chín mươi chín",
    100: "một trăm",
    101: "một trăm linh một",
    104: "một trăm linh bốn",
    105: "một trăm linh năm",
    110: "một trăm mười",
    111: "một trăm mười một",
    115: "một trăm mười lăm",
    120: "một trăm hai mươi",
    121: "một trăm hai mươi mốt",
    205: "hai trăm linh năm",
    215: "hai trăm mười lăm",
    345: "ba trăm bốn mươi lăm",
    500: "năm trăm",
    555: "năm trăm năm mươi lăm",
    909: "chín trăm linh chín",
    1000: "một nghìn",
    1001: "một nghìn không trăm linh một",
    1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười",
    1015: "một nghìn không trăm mười lăm",
    1021: "một nghìn không trăm hai mươi mốt",
    1023: "một nghìn không trăm hai mươi ba",
    1100: "một nghìn một trăm",
    1105: "một nghìn một trăm linh năm",
    1234: "một nghìn hai trăm ba mươi tư",
    2000: "hai nghìn",
    2024: "hai nghìn không trăm hai mươi tư",
    3005: "ba nghìn không trăm linh năm",
    4444: "bốn nghìn bốn trăm bốn mươi tư",
    5555: "năm nghìn năm trăm năm mươi lăm",
    7011: "bảy nghìn không trăm mười một",
    8001: "tám nghìn không trăm linh một",
    9999: "chín nghìn chín trăm chín mươi chín",
}


@pytest.mark.parametrize(("number", "reading"), sorted(KNOWN.items()))
def test_known_readings(number: int, reading: str) -> None:
    assert " ".join(read_number(number)) == reading


def _parse(words: list[str]) -> int:
    """Read the words back to a number, the way a listener would."""
    value = {w: i for i, w in enumerate(DIGITS)} | {"mốt": 1, "tư": 4, "lăm": 5}
    total = current = 0
    for word in words:
        if word == "nghìn":
            total += current * 1000
            current = 0
        elif word == "trăm":
            current *= 100
        elif word == "mươi":
            current = current // 100 * 100 + current % 100 * 10
        elif word == "mười":
            current += 10
        elif word == "linh":
            continue
        else:
            current += value[word]
    return total + current


def test_every_reading_reads_back_to_its_number() -> None:
    for n in range(10000):
        assert _parse(read_number(n)) == n, (n, read_number(n))


def test_structural_rules_over_the_whole_range() -> None:
    for n in range(10000):
        words = read_number(n)
        for before, word in zip(["^", *words], words, strict=False):
            if word in ("mốt", "tư"):
                assert before == "mươi", (n, words)
            if word == "lăm":
                assert before in ("mười", "mươi"), (n, words)
            if before in ("mười", "mươi"):
                assert word not in ("năm", "một" if before == "mươi" else "mốt"), (n, words)
                assert word != "bốn" or before == "mười", (n, words)
            if word == "mươi":
                assert before in DIGITS[2:], (n, words)
            if word == "mười":
                assert before in ("^", "trăm"), (n, words)
            if word == "linh":
                assert before == "trăm" and words[-1] in DIGITS[1:] and words[-2] == "linh", (n, words)
        if n >= 1000 and (n // 100) % 10 == 0 and n % 100:
            assert words[2:4] == ["không", "trăm"], (n, words)
        if n != 0:
            assert "không" not in words or words[words.index("không") + 1] == "trăm", (n, words)
        assert n % 10 != 0 or n < 10 or words[-1] in ("mươi", "mười", "trăm", "nghìn"), (n, words)


def test_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        read_number(10000)
    with pytest.raises(ValueError):
        read_number(-1)


def test_ticket_numbers_split_into_prefix_and_value() -> None:
    assert split_number("A023") == ("A", 23)
    assert split_number("3005") == ("", 3005)
    assert split_number("AB1") == ("AB", 1)
    assert split_number("99123") == ("", 99123)
    for bad in ("", "a023", "A", "A1234567", "1-2", "ABC1"):
        with pytest.raises(ValueError):
            split_number(bad)


def test_vietnamese_call_clips() -> None:
    assert vietnamese_call("B1023", 5) == [
        "moi-cong-dan", "letter-b", "vi-mot-nang", "vi-nghin", "vi-khong", "vi-tram",
        "vi-hai", "vi-muoi-ngang", "vi-ba", "den-quay-so", "vi-nam",
    ]
    assert vietnamese_call("3021", 21)[-3:] == ["vi-hai", "vi-muoi-ngang", "vi-mot-sac"]
    assert vietnamese_call("A015", 1)[2:4] == ["vi-muoi-huyen", "vi-lam"]


def test_numbers_past_9999_are_read_digit_by_digit() -> None:
    assert vietnamese_call("12005", 3)[1:6] == ["vi-mot-nang", "vi-hai", "vi-khong", "vi-khong", "vi-nam"]


def test_english_call_reads_digits() -> None:
    assert english_call("A023", 12) == [
        "en-ticket", "en-letter-a", "en-zero", "en-two", "en-three", "en-counter", "en-one", "en-two",
    ]


def test_announcement_repeats_after_one_chime() -> None:
    once = CallSpeech(repeat=1).clips("A001", 2)
    assert once[0] == CHIME and once.count(CHIME) == 1 and PAUSE not in once
    twice = CallSpeech(repeat=2).clips("A001", 2)
    assert twice == [*once, PAUSE, *once[1:]]
    both = CallSpeech(repeat=1, english=True).clips("A001", 2)
    assert both == [*once, PAUSE, *english_call("A001", 2)]


def test_every_clip_a_call_uses_is_in_the_pack() -> None:
    names = set(voice_clips()) | {CHIME, PAUSE}
    speech = CallSpeech(repeat=2, english=True)
    for number in ("A001", "Z999", "AB123", "3005", "9999", "0"):
        for counter in (1, 15, 21, 104, 999):
            assert set(speech.clips(number, counter)) <= names


def test_clip_names_keep_tones_apart() -> None:
    words = ["mười", "mươi", "một", "mốt", "năm", "lăm", "tư", "bốn", *DIGITS]
    assert len({clip_name(w) for w in words}) == len(set(words))
    assert all(clip_name(w).isascii() for w in words)
