"""Reading aloud for citizens who cannot read the screen well: the fields and the ticket
number said in the board's voice (espeak-ng's Vietnamese, offline), on the kiosk's audio
output (its speaker, or headphones in its jack).

Each sentence is made once with espeak-ng and kept in a cache folder; sentences are said
one after the other on a thread of their own, and a new touch cuts the one being said,
as a person reading aloud would stop for a new question.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from pathlib import Path

import pygame

from luot.espeak import EspeakError, synthesize
from luot.speech import LETTERS, read_ticket_value, split_number

log = logging.getLogger(__name__)

RATE = 22050


def number_words(number: str) -> str:
    """"A023" as it is said: "a hai mươi ba"; a number it cannot read, letter by letter."""
    try:
        prefix, value = split_number(number)
    except ValueError:
        return " ".join(number)
    return " ".join([*(LETTERS.get(letter, letter) for letter in prefix), *read_ticket_value(value)])


class Reader:
    """Says sentences in Vietnamese; `said` keeps what was said (for the technician and tests)."""

    def __init__(self, cache: Path, voice: str = "vi") -> None:
        self.cache = cache
        self.voice = voice
        self.said: list[str] = []
        self.problem: str | None = None  # why nothing can be said, for the kiosk's health
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="kiosk-reader", daemon=True)
        self._thread.start()

    def say(self, text: str, *, cut: bool = True) -> None:
        """Say `text` after what is queued, or (`cut`) instead of it."""
        if cut:
            while not self._queue.empty():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            if pygame.mixer.get_init():
                pygame.mixer.stop()
        self._queue.put(text)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def idle(self) -> bool:
        return self._queue.empty()

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            self._say(text)

    def _clip(self, text: str) -> Path:
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.cache / f"{hashlib.sha1(f'{self.voice}:{text}'.encode()).hexdigest()[:16]}.wav"
        return path if path.exists() else synthesize(text, self.voice, path)

    def _say(self, text: str) -> None:
        try:
            clip = self._clip(text)
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=RATE, size=-16, channels=1)
            pygame.mixer.Sound(str(clip)).play()
        except (EspeakError, OSError, pygame.error) as e:
            self.problem = str(e)
            log.warning("could not say %r: %s", text, e)
            return
        self.problem = None
        self.said.append(text)
        del self.said[:-50]
