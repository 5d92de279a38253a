"""Speech made offline with espeak-ng: the board's default voice pack and the kiosk's
read-aloud mode say words in the same voice, at the same pace."""

from __future__ import annotations

import array
import shutil
import subprocess
import wave
from pathlib import Path

SPEED_WPM = 150
SILENCE_LEVEL = 400  # of 32767: what counts as silence when trimming espeak's margins
MARGIN_S = 0.03


class EspeakError(Exception):
    """espeak-ng is missing or could not say the text."""


def write_wav(path: Path, samples: array.array, rate: int) -> None:
    """16-bit mono samples as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def _trim(path: Path) -> None:
    """Cut espeak-ng's silent lead-in and tail so words said one after the other follow closely."""
    with wave.open(str(path), "rb") as src:
        if src.getsampwidth() != 2 or src.getnchannels() != 1:
            return
        rate = src.getframerate()
        samples = array.array("h", src.readframes(src.getnframes()))
    loud = [i for i, s in enumerate(samples) if abs(s) > SILENCE_LEVEL]
    if not loud:
        return
    margin = int(MARGIN_S * rate)
    start, end = max(0, loud[0] - margin), min(len(samples), loud[-1] + margin)
    write_wav(path, samples[start:end], rate)


def synthesize(text: str, voice: str, path: Path) -> Path:
    """`text` said in espeak-ng's `voice` ("vi", "en"), trimmed, written to `path`."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise EspeakError("espeak-ng is not installed: apt-get install espeak-ng")
    result = subprocess.run(
        [espeak, "-v", voice, "-s", str(SPEED_WPM), "-w", str(path), text],
        capture_output=True, text=True, timeout=30,
    )
    if result.returncode != 0 or not path.exists():
        raise EspeakError(f"espeak-ng could not say {text!r}: {result.stderr.strip()}")
    _trim(path)
    return path
