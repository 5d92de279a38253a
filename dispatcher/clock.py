"""Whether the hub's wall clock can be trusted to give numbers.

A Pi has no real-time clock and the centre's LAN has no internet: at boot the
clock is wherever it was saved, until chrony steps it. A business day follows
the date, so a wrong clock would open the wrong day or expire a day's waiting
tickets. The dispatcher therefore gives numbers only while the clock is
trusted:
- after boot, once the kernel says the clock is synchronised, or at once when
  the database's open day is today's and the clock is not behind what the
  database last saw (a restart in the middle of a day);
- a jump of the wall clock against the monotonic clock of more than
  `max_jump_s` forward, or of more than a minute backward, of a trusted clock
  needs a technician's or the leader's `confirm_clock` (the step with which the
  kernel becomes synchronised is the sync itself, not a jump). A hub with no
  time server on its LAN is never synchronised: it is trusted by confirmation.
A day is never rolled backward (`QueueBook.roll_day`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)

MAX_JUMP_S = 3 * 3600.0
BACKWARD_TOLERANCE_S = 60.0
TIME_ERROR = 5  # adjtimex's answer when the kernel's clock is not synchronised

OK = "ok"
UNSYNCHRONISED = "unsynchronised"
JUMPED = "jumped"


def kernel_synchronised() -> bool:
    """The kernel's own word (adjtimex), which chrony keeps: False while unsynchronised."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    timex = ctypes.create_string_buffer(512)  # struct timex; modes = 0 only reads
    return int(libc.adjtimex(timex)) != TIME_ERROR


class ClockGuard:
    """Decides, at each batch, whether `now` may give numbers and roll the day."""

    def __init__(self, *, synchronised: Callable[[], bool] = kernel_synchronised,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_jump_s: float = MAX_JUMP_S) -> None:
        self._synchronised = synchronised
        self._monotonic = monotonic
        self.max_jump_s = max_jump_s
        self.state = UNSYNCHRONISED
        self.detail = "the clock has not been synchronised since boot"
        self._last: tuple[float, float] | None = None  # (wall, monotonic) at the last check
        self._was_synced = False

    def check(self, now: datetime, open_day_is_today: bool, last_seen: float | None) -> bool:
        """Whether numbers may be given at `now`. `open_day_is_today`: the database's day of
        `now` is open; `last_seen`: the latest moment the database recorded."""
        wall, mono = now.timestamp(), self._monotonic()
        synced = self._synchronised()
        # A clock trusted by a sync, a technician or a restart is held on a jump; the one step
        # that is not a jump is the kernel becoming synchronised (chrony's first correction).
        if self._last is not None and self.state == OK and not (synced and not self._was_synced):
            drift = (wall - self._last[0]) - (mono - self._last[1])
            if drift > self.max_jump_s or drift < -BACKWARD_TOLERANCE_S:
                self._hold(JUMPED, f"the clock jumped {drift / 3600:+.1f} h; a technician or the leader "
                                   "must confirm it (confirm_clock)")
        if self._last is None and (
            open_day_is_today and (last_seen is None or wall >= last_seen - BACKWARD_TOLERANCE_S)
        ):
            self._trust("a restart within the open day")
        if self.state == UNSYNCHRONISED and synced:
            self._trust("synchronised")
        self._last = (wall, mono)
        self._was_synced = synced
        return self.state == OK

    def confirm(self) -> None:
        """A technician has looked at the clock and says it is right."""
        self._trust("confirmed by a technician")

    def _trust(self, why: str) -> None:
        if self.state != OK:
            log.info("the clock is trusted: %s", why)
        self.state, self.detail = OK, why

    def _hold(self, state: str, detail: str) -> None:
        if self.state != state:
            log.warning("no numbers given: %s", detail)
        self.state, self.detail = state, detail
