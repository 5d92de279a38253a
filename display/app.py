"""The TV board's loop: MQTT messages in, regions redrawn, calls flashed and spoken.

The MQTT thread only queues a message and wakes the loop; everything else
happens on the pygame thread, which sleeps in `pygame.event.wait` until a
message, a timed redraw (clock, flash, scrolling notice) or the watchdog.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygame

from display.board import Board
from display.state import BoardState, Change
from display.voice import Announcement, Announcer
from luot.mqtt import HubLink
from luot.screen import wake
from luot.systemd import Notifier

log = logging.getLogger(__name__)

WATCHDOG_CAP_S = 30.0


@dataclass(frozen=True)
class Frame:
    """One flip: when (monotonic), how long painting it took, the counter cards and calls on it."""

    at: float
    ms: float
    cards: dict[int, str | None]
    calls: tuple[int, ...]


class DisplayApp:
    def __init__(
        self,
        link: HubLink,
        screen: pygame.Surface,
        state: BoardState,
        *,
        announcer: Announcer | None = None,
        notifier: Notifier | None = None,
        screenshots: Path | None = None,
        frame_log: Path | None = None,
    ) -> None:
        self.link = link
        self.screen = screen
        self.state = state
        self.announcer = announcer
        self.notifier = notifier or Notifier()
        self.screenshots = screenshots
        self.board = Board(screen, state, ZoneInfo(state.timezone))
        self.frames: list[Frame] = []
        self.stopping = False
        self._inbox: queue.SimpleQueue[tuple[str, Any, Any, bool]] = queue.SimpleQueue()
        self._frame_log = frame_log.open("a", encoding="utf-8") if frame_log else None
        self._drawn_once = False
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
        link.add_handler(self._on_message)
        link.add_connection_handler(self._on_connection)

    # ------------------------------------------------------------------ network thread

    def _on_message(self, topic: str, payload: Any, retained: bool) -> None:
        self._inbox.put(("message", topic, payload, retained))
        wake()

    def _on_connection(self, online: bool) -> None:
        self._inbox.put(("connection", online, None, False))
        wake()

    def stop_soon(self) -> None:
        """From a signal handler or another thread: leave the loop at its next wake."""
        self.stopping = True
        wake()

    # ------------------------------------------------------------------ the loop

    def run(self, until: Callable[[], bool] | None = None, timeout: float | None = None) -> bool:
        """Run until stopped (or `until()` holds, or `timeout` passes); whether `until` held."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.notifier.ready("board drawn")
        while not self.stopping:
            self.step(max_wait=None if deadline is None else max(0.0, deadline - time.monotonic()))
            if until is not None and until():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return False

    def step(self, max_wait: float | None = None) -> None:
        """Sleep until something is due, then take in what came and redraw what changed."""
        now = time.monotonic()
        wait_s = self.board.next_timer_s(now, self._wall()) if self._drawn_once else 0.0
        wait_s = min(wait_s, self.notifier.watchdog_interval or WATCHDOG_CAP_S)
        if max_wait is not None:
            wait_s = min(wait_s, max_wait)
        events = [pygame.event.wait(max(1, round(wait_s * 1000)))] if wait_s > 0 else []
        events += pygame.event.get()
        for event in events:
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                self.stopping = True
        change = self._drain()
        self.notifier.pet()
        self._draw(change)

    def _drain(self) -> Change:
        change = Change()
        while True:
            try:
                kind, a, b, retained = self._inbox.get_nowait()
            except queue.Empty:
                return change
            if kind == "connection":
                change.merge(self.state.set_online(bool(a)))
                continue
            step = self.state.apply(a, b, retained)
            change.merge(step)
            if a == "config":
                self._configure()
            for call in step.calls:
                self.board.start_flash(time.monotonic())
                if self.announcer is not None:
                    self.announcer.say(Announcement(call.seq, call.number, call.counter))

    def _configure(self) -> None:
        try:
            self.board.timezone = ZoneInfo(self.state.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("unknown time zone %r in the catalogue; keeping %s", self.state.timezone,
                        self.board.timezone)
        if self.announcer is not None:
            self.announcer.speech = self.state.speech

    def _wall(self) -> datetime:
        return datetime.now(self.board.timezone)

    def _draw(self, change: Change) -> None:
        now = time.monotonic()
        started = time.perf_counter()
        regions = change.regions | self.board.due(now, self._wall())
        full = change.relayout or not self._drawn_once
        if full:
            self.board.relayout()
        if not regions and not full:
            return
        rects = self.board.frame(regions, now, self._wall(), full=full)
        if not rects:
            return
        pygame.display.update(rects)
        self._drawn_once = True
        self._record(change, regions, full, started)

    def _record(self, change: Change, regions: set[str], full: bool, started: float) -> None:
        at = time.monotonic()
        cards = {
            n: c.ticket for n, c in self.state.counters.items() if full or f"counter:{n}" in regions
        }
        seqs = tuple(call.seq for call in change.calls)
        frame = Frame(at, (time.perf_counter() - started) * 1000, cards, seqs)
        self.frames.append(frame)
        del self.frames[:-1000]
        if self._frame_log is not None and (cards or seqs):
            self._frame_log.write(json.dumps(
                {"at": frame.at, "ms": round(frame.ms, 3), "cards": frame.cards, "calls": seqs}
            ) + "\n")
            self._frame_log.flush()
        if self.screenshots is not None:
            # Two calls drawn in one frame still give one picture each, named by the call.
            for call in change.calls:
                path = self.screenshots / f"call-{call.seq:06d}-quay-{call.counter}.png"
                pygame.image.save(self.screen, str(path))

    def close(self) -> None:
        if self._frame_log is not None:
            self._frame_log.close()
        if self.announcer is not None:
            self.announcer.stop()
