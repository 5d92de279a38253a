"""The voice pack (a folder of short WAV clips) and the announcer that speaks calls.

The default pack is made offline with espeak-ng, so a centre never needs the
internet to speak; a site replaces any clip with its own recording of the same
name. An announcement is assembled into one sound (chime, words, pauses) and
played to the end before the next one starts: calls queue, never overlap, and
are never cut off.
"""

from __future__ import annotations

import array
import logging
import math
import queue
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from luot.espeak import EspeakError, synthesize, write_wav
from luot.speech import CHIME, PAUSE, CallSpeech, voice_clips

log = logging.getLogger(__name__)

RATE = 22050
PAUSE_S = 0.35
DEVICE_IDLE_S = 3.0  # the audio device stays open this long after a call, for the next one


class VoiceError(Exception):
    """The voice pack cannot be built or read."""


# ---------------------------------------------------------------------- building


def synth_chime(path: Path, rate: int = RATE) -> None:
    """A two-tone "ding-dong" (E5 then C5, bell-like decay), written as 16-bit mono WAV."""
    samples = array.array("h")
    for freq, seconds in ((659.25, 0.55), (523.25, 0.9)):
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            envelope = math.exp(-4.0 * t) * min(1.0, i / (0.005 * rate))
            value = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            samples.append(int(12000 * envelope * value))
    write_wav(path, samples, rate)


def build_voice_pack(folder: Path, *, keep_existing: bool = False) -> list[Path]:
    """Write every clip a call can use into `folder` with espeak-ng, plus the chime.

    With `keep_existing`, clips already there (a site's own recordings) are left alone.
    """
    if shutil.which("espeak-ng") is None:
        raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VoiceError(f"cannot make the voice pack folder {folder}: {e.strerror}") from None
    written: list[Path] = []
    chime = folder / f"{CHIME}.wav"
    if not (keep_existing and chime.exists()):
        synth_chime(chime)
        written.append(chime)
    for name, (voice, text) in voice_clips().items():
        path = folder / f"{name}.wav"
        if keep_existing and path.exists():
            continue
        try:
            written.append(synthesize(text, voice, path))
        except EspeakError as e:
            raise VoiceError(str(e)) from None
    return written


# ---------------------------------------------------------------------- playing


class VoicePack:
    """The clips of one folder as raw samples in the mixer's format, joined into one sound per call.

    Reading needs the mixer open (pygame converts each WAV to the mixer's format);
    the samples are kept as bytes, so the audio device can be closed between calls.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.format: tuple[int, int, int] = pygame.mixer.get_init()
        frequency, size, channels = self.format
        self.bytes_per_s = frequency * abs(size) // 8 * channels
        self.clips: dict[str, bytes] = {}
        for path in sorted(folder.glob("*.wav")):
            try:
                self.clips[path.stem] = pygame.mixer.Sound(str(path)).get_raw()
            except pygame.error as e:
                log.warning("voice clip %s cannot be read: %s", path, e)
        frame = abs(size) // 8 * channels
        self._silence = bytes(int(self.bytes_per_s * PAUSE_S) // frame * frame)

    def missing(self, names: Iterable[str]) -> list[str]:
        return sorted({n for n in names if n != PAUSE and n not in self.clips})

    def assemble(self, names: list[str]) -> bytes:
        """The samples of the clips in order; a missing clip is left out (and logged)."""
        parts: list[bytes] = []
        for name in names:
            if name == PAUSE:
                parts.append(self._silence)
            elif name in self.clips:
                parts.append(self.clips[name])
            else:
                log.warning("voice clip %s.wav is missing from %s", name, self.folder)
        return b"".join(parts)


@dataclass(frozen=True)
class Announcement:
    seq: int
    number: str
    counter: int


@dataclass
class Spoken:
    """One announcement as it was played, kept for tests and the health report."""

    seq: int
    clips: list[str]
    started: float
    ended: float = 0.0
    length_s: float = 0.0


@dataclass
class Announcer:
    """Plays announcements one after the other on a thread of its own."""

    pack: VoicePack
    speech: CallSpeech = field(default_factory=CallSpeech)
    history_size: int = 50

    def __post_init__(self) -> None:
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._stopping = threading.Event()
        self._unfinished = 0  # said and not yet spoken to the end (queued or playing)
        self._lock = threading.Lock()
        self.spoken: list[Spoken] = []
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def say(self, announcement: Announcement) -> None:
        with self._lock:
            self._unfinished += 1
        self._queue.put(announcement)

    @property
    def quiet(self) -> bool:
        """Nothing queued and nothing playing: a restart would cut no announcement."""
        with self._lock:
            return self._unfinished == 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        """Stop now: what is queued is dropped and the call being spoken is cut (shutting down)."""
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._queue.get(timeout=DEVICE_IDLE_S)
            except queue.Empty:
                # Nothing to say for a while: close the device, whose mixing thread
                # otherwise keeps a core busy mixing silence.
                if pygame.mixer.get_init():
                    pygame.mixer.quit()
                continue
            if item is None:
                break
            try:
                self._speak(item)
            finally:
                with self._lock:
                    self._unfinished -= 1
        if pygame.mixer.get_init():
            pygame.mixer.Channel(0).stop()

    def _speak(self, item: Announcement) -> None:
        try:
            names = self.speech.clips(item.number, item.counter)
        except ValueError as e:
            log.warning("call %s not spoken: %s", item.seq, e)
            return
        samples = self.pack.assemble(names)
        try:
            if not pygame.mixer.get_init():
                frequency, size, channels = self.pack.format
                pygame.mixer.init(frequency=frequency, size=size, channels=channels)
            channel = pygame.mixer.Channel(0)
            sound = pygame.mixer.Sound(buffer=samples)
        except pygame.error as e:
            log.error("call %s not spoken: no audio output (%s)", item.seq, e)
            return
        record = Spoken(item.seq, names, time.monotonic(), length_s=len(samples) / self.pack.bytes_per_s)
        channel.play(sound)
        # Sleep through the known length, then until the mixer says the channel is free.
        self._stopping.wait(record.length_s)
        while channel.get_busy() and not self._stopping.is_set():
            time.sleep(0.01)
        record.ended = time.monotonic()
        self.spoken.append(record)
        del self.spoken[:-self.history_size]
