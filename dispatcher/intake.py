"""Commands in: the one guard every message from a device passes through.

Whatever its bytes, a command is parsed, checked and applied inside a
savepoint and answered with a reply: an error code for bad input, `internal`
(with nothing applied) for a bug. So no message can stop the dispatcher, nor
come back through its persistent session to stop it again. Retained commands
are refused, a reused id with another body is `id_conflict`, and a command
that arrives after its sender stopped waiting is `expired`. Only a full card
escapes, as StorageFull, to refuse the whole batch.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatcher.clock import ClockGuard
from dispatcher.queue import Effects, QueueBook
from dispatcher.refusals import record_refusal
from dispatcher.storage import is_full
from luot import protocol as p
from luot.config import SiteConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    device: str
    payload: bytes
    correlation: bytes | None
    mid: int
    qos: int
    retained: bool = False
    deadline: float | None = None  # monotonic time its sender stops waiting (message expiry)


class StorageFull(Exception):
    """The card is full: the batch is refused as a whole."""


class Intake:
    """Applies batches of commands to the book, inside one transaction each."""

    def __init__(self, db: sqlite3.Connection, book: QueueBook, site: SiteConfig,
                 clock_guard: ClockGuard | None = None) -> None:
        self.db = db
        self.book = book
        self.site = site
        self.clock_guard = clock_guard  # None: the clock is taken as it is (tests, simulations)
        self._clock_ok = True

    def apply(self, batch: list[Incoming], now: datetime, effects: Effects,
              commit: Callable[[bool], None]) -> list[tuple[Incoming, bytes]]:
        """The batch in one transaction, committed by `commit(overlap)`; StorageFull when the
        card is full."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._clock_ok = self._check_clock(now)
            if self._clock_ok:
                self.book.roll_day(now, effects)
            replies = [(item, self._handle(item, now, effects)) for item in batch]
            commit(len(replies) > 1)
        except BaseException as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error) and is_full(e):
                log.error("the database cannot grow (%s): refusing %d commands", e, len(batch))
                raise StorageFull(str(e)) from e
            raise
        return replies

    def _check_clock(self, now: datetime) -> bool:
        if self.clock_guard is None:
            return True
        return self.clock_guard.check(now, self.book.is_open(self.book.day_of(now)),
                                      self.book.last_seen())

    @staticmethod
    def correlation_id(item: Incoming) -> str | None:
        return item.correlation.decode("utf-8", "replace") if item.correlation else None

    def _handle(self, item: Incoming, now: datetime, effects: Effects) -> bytes:
        """The one guard: parse, check and apply one command in a savepoint, returning the
        reply bytes. Bad input gets its code; anything else is a bug, answered `internal`
        with nothing applied. Only a full card escapes, to fail the whole batch."""
        self.db.execute("SAVEPOINT command")
        step = Effects()
        try:
            reply = self._answer(item, now, step)
        except Exception as e:
            if isinstance(e, sqlite3.Error) and is_full(e):
                raise  # SQLite may have rolled back the whole transaction: the batch fails
            self.db.execute("ROLLBACK TO command")
            self.db.execute("RELEASE command")
            log.exception("a command from %s failed", item.device)
            return p.encode(p.error_reply(self.correlation_id(item), p.INTERNAL,
                                          "the dispatcher failed; try again"))
        self.db.execute("RELEASE command")
        effects.counters |= step.counters
        effects.services |= step.services
        effects.site |= step.site
        effects.calls += step.calls
        return reply

    def _answer(self, item: Incoming, now: datetime, step: Effects) -> bytes:
        try:
            cmd = p.parse_command(item.payload)
        except p.ProtocolError as e:
            log.info("refused a command from %s: %s", item.device, e)
            return p.encode(p.error_reply(self.correlation_id(item), e.code, e.detail))
        if item.retained:
            log.warning("refused a retained command from %s (never executed)", item.device)
            return p.encode(p.error_reply(cmd.id, p.RETAINED, "a command must not be retained"))
        digest = p.digest(cmd)
        stored = self.book.stored_reply(item.device, cmd.id)
        if stored is not None:
            reply, stored_digest = stored
            if stored_digest is not None and stored_digest != digest:
                return p.encode(p.error_reply(cmd.id, p.ID_CONFLICT,
                                              "this id was used for another command"))
            return reply.encode("utf-8")
        self.db.execute("SAVEPOINT apply")
        try:
            body = self._decide(item, cmd, now, step)
            result = p.ok_reply(cmd.id, **body)
        except p.ProtocolError as e:
            self.db.execute("ROLLBACK TO apply")
            record_refusal(self.db, self.site, item.device, cmd, e.code, now)
            result = p.error_reply(cmd.id, e.code, e.detail)
        self.db.execute("RELEASE apply")
        encoded = p.encode(result)
        self.book.store_reply(item.device, cmd.id, digest, encoded.decode("utf-8"), now)
        return encoded

    def _decide(self, item: Incoming, cmd: p.Command, now: datetime,
                step: Effects) -> dict[str, Any]:
        if item.deadline is not None and time.monotonic() > item.deadline:
            raise p.ProtocolError(p.EXPIRED, "it arrived after its sender stopped waiting")
        device = self.site.device(item.device)
        if device is None:
            raise p.ProtocolError(p.UNKNOWN_DEVICE, f"{item.device!r} is not in the inventory")
        if cmd.op == "confirm_clock":
            if cmd.op not in p.ROLE_OPS[device.role]:
                raise p.ProtocolError(p.FORBIDDEN, f"a {device.role} may not {cmd.op!r}")
            if self.clock_guard is not None:
                self.clock_guard.confirm()
            self._clock_ok = True
            self.book.roll_day(now, step)
            return {"clock": "ok", "site": self.book.site_state(now)}
        if not self._clock_ok:
            assert self.clock_guard is not None
            raise p.ProtocolError(p.CLOCK_UNSURE, self.clock_guard.detail)
        return self.book.apply(device, cmd, now, step)
