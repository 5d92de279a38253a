"""The TV board's loop: MQTT messages in, regions redrawn, calls flashed and spoken.

The MQTT thread only queues a message; everything else happens on the pygame
thread, which sleeps on that queue until a message, a timed redraw (clock,
flash, scrolling notice) or the next look at window events (twice a second).

It does not sleep in `pygame.event.wait`: pygame-ce implements the wait as a
1 ms poll (pump, peek, SDL_Delay(1)), which alone cost ~0.7 % of a core here
with the dummy driver, most of the idle budget. A queue wait costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygame

from display.board import TvBoard
from display.state import BoardState, Change, counter_region
from display.voice import Announcement, Announcer
from luot import protocol as p
from luot.mqtt import HubLink
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks

log = logging.getLogger(__name__)

# Window events (a closed window, Escape) are looked at on every wake, at least this often.
EVENT_POLL_S = 0.5
# A board told to stop still says the calls it has heard, this long at most (the unit gives
# it TimeoutStopSec=30s): a call that came just as an update held the board reaches the hall.
WIND_DOWN_S = 20.0

# (kind, topic or online flag, payload, retained), queued by the MQTT thread.
Message = tuple[str, Any, Any, bool]


@dataclass(frozen=True)
class FlipRecord:
    """A flip with counter cards or calls on it: when (monotonic), how long painting took, what it showed."""

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
        update: UpdateHooks | None = None,
    ) -> None:
        self.link = link
        self.update = update or UpdateHooks(None)
        self.screen = screen
        self.state = state
        self.announcer = announcer
        self.notifier = notifier or Notifier()
        self.screenshots = screenshots
        self.board = TvBoard(screen, state, ZoneInfo(state.timezone))
        self.frames: deque[FlipRecord] = deque(maxlen=1000)
        self.stopping = False
        self.flips = 0
        self._inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._frame_log = frame_log.open("a", encoding="utf-8") if frame_log else None
        self._drawn_once = False
        if screenshots is not None:
            (screenshots / ".partial").mkdir(parents=True, exist_ok=True)
        link.add_handler(self._on_message)
        link.add_connection_handler(self._on_link)
        link.add_hub_handler(self._on_link)

    # ------------------------------------------------------------------ network thread

    def _on_message(self, topic: str, payload: Any, retained: bool) -> None:
        self._inbox.put(("message", topic, payload, retained))

    def _on_link(self, _up: bool) -> None:
        self._inbox.put(("link", self.link.hub_state, None, False))

    def stop_soon(self) -> None:
        """From a signal handler or another thread: leave the loop at once."""
        self.stopping = True
        self._inbox.put(("stop", None, None, False))

    # ------------------------------------------------------------------ the loop

    def run(self, until: Callable[[], bool] | None = None, timeout: float | None = None) -> bool:
        """Run until stopped (or `until()` holds, or `timeout` passes); whether `until` held."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stopping:
            self.step(max_wait=None if deadline is None else max(0.0, deadline - time.monotonic()))
            if until is not None and until():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
        self._wind_down()
        return False

    def _wind_down(self) -> None:
        """Take in what has come and speak it to the end before leaving: the calls a stop
        would cut are the ones no restart brings back (replayed calls are shown, not said)."""
        if self.announcer is None:
            return
        deadline = time.monotonic() + WIND_DOWN_S
        while not (self.announcer.quiet and self._inbox.empty()):
            if time.monotonic() >= deadline:
                log.warning("stopping after %.0f s with calls still to say", WIND_DOWN_S)
                return
            self.step(max_wait=EVENT_POLL_S / 5)

    def step(self, max_wait: float | None = None) -> None:
        """Sleep until something is due, then take in what came and redraw what changed."""
        now = time.monotonic()
        wait_s = self.board.next_timer_s(now, self._wall()) if self._drawn_once else 0.0
        wait_s = min(wait_s, EVENT_POLL_S, self.notifier.watchdog_interval or EVENT_POLL_S)
        if max_wait is not None:
            wait_s = min(wait_s, max_wait)
        first = None
        if wait_s > 0:
            with contextlib.suppress(queue.Empty):
                first = self._inbox.get(timeout=wait_s)
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                self.stopping = True
        change = self._drain(first)
        self.notifier.pet()
        self._draw(change)
        self._follow_update()

    def _follow_update(self) -> None:
        """Up once the catalogue is here; held for an update only while nothing is being said.
        A call that comes while held is spoken all the same, and lifts the hold."""
        if self.link.connected and self.link.state(p.CONFIG) is not None:
            self.update.ready()
        quiet = self.announcer is None or self.announcer.quiet
        self.update.hold(self.update.hold_asked() and quiet)

    def _drain(self, first: Message | None) -> Change:
        change = Change()
        while True:
            if first is not None:
                item, first = first, None
            else:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    return change
            kind, a, b, retained = item
            if kind == "stop":
                continue
            if kind == "link":
                change.merge(self.state.set_link(str(a)))
                continue
            step = self.state.apply(a, b, retained)
            change.merge(step)
            if a == p.CONFIG:
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
        wall = self._wall()
        started = time.perf_counter()
        regions = change.regions | self.board.due(now, wall)
        full = change.relayout or not self._drawn_once
        if full:
            self.board.relayout()
        if not regions and not full:
            return
        rects = self.board.frame(regions, now, wall, full=full)
        if not rects:
            return
        pygame.display.update(rects)
        self.flips += 1
        if not self._drawn_once:
            self._drawn_once = True
            self.notifier.ready("board drawn")
        self._record(change, regions, full, started)

    def _record(self, change: Change, regions: set[str], full: bool, started: float) -> None:
        at = time.monotonic()
        cards: dict[int, str | None] = {}
        if full or any(r.startswith("counter:") for r in regions):
            cards = {
                n: c.ticket for n, c in self.state.counters.items() if full or counter_region(n) in regions
            }
        seqs = tuple(call.seq for call in change.calls)
        if not (cards or seqs):
            return  # the clock, a flash or the notice moving: nothing to keep
        frame = FlipRecord(at, (time.perf_counter() - started) * 1000, cards, seqs)
        self.frames.append(frame)
        if self._frame_log is not None:
            self._frame_log.write(json.dumps(
                {"at": frame.at, "ms": round(frame.ms, 3), "cards": frame.cards, "calls": seqs}
            ) + "\n")
            self._frame_log.flush()
        if self.screenshots is not None:
            # Two calls drawn in one frame still give one picture each, named by the call.
            # Each is written aside and renamed, so a reader never sees half a PNG.
            for call in change.calls:
                name = f"call-{call.seq:06d}-quay-{call.counter}.png"
                partial = self.screenshots / ".partial" / name
                pygame.image.save(self.screen, str(partial))
                os.replace(partial, self.screenshots / name)

    def close(self) -> None:
        if self._frame_log is not None:
            self._frame_log.close()
        if self.announcer is not None:
            self.announcer.stop()
