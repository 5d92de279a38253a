"""The counter ops of the queue book: next, recall, no-show, done, requeue, transfer,
pause, resume, rate, and the calling they share (which ticket a counter takes next).

Apart from `dispatcher.queue` so the rules of serving can be read on their own;
`QueueBook` inherits them and routes the wire's op names to them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from dispatcher.effects import Effects
from dispatcher.remote_numbers import UNCONFIRMED, skip_unconfirmed
from dispatcher.views import QueueViews
from luot import protocol as p
from luot.config import Counter


def _serving(counter: Counter, current: sqlite3.Row | None) -> sqlite3.Row:
    """The ticket an op on the counter's citizen acts on; refused when it serves no one."""
    if current is None:
        raise p.ProtocolError(p.NO_CURRENT_TICKET, f"counter {counter.number} serves no one")
    return current


class CounterOps(QueueViews):
    """A counter's ops, each inside the caller's transaction; and how a counter calls."""

    def _next(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
              now: datetime, effects: Effects) -> dict[str, Any]:
        if current is not None:
            self._finish(current, "served", now, effects)
        return self._call_next(counter, now, effects)

    def _noshow(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                now: datetime, effects: Effects) -> dict[str, Any]:
        current = _serving(counter, current)
        self._finish(current, "noshow", now, effects)
        return self._call_next(counter, now, effects)

    def _done(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
              now: datetime, effects: Effects) -> dict[str, Any]:
        current = _serving(counter, current)
        self._finish(current, "served", now, effects)
        return {}

    def _recall(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                now: datetime, effects: Effects) -> dict[str, Any]:
        current = _serving(counter, current)
        self.db.execute("UPDATE tickets SET calls = calls + 1 WHERE id = ?", (current["id"],))
        self._record_call(current["id"], counter.number, now, True, effects)
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _requeue(self, counter: Counter, current: sqlite3.Row | None, _fields: dict[str, Any],
                 now: datetime, effects: Effects) -> dict[str, Any]:
        """The citizen went to complete a form: back near the front of the line, not the end."""
        current = _serving(counter, current)
        ranks = [
            r[0]
            for r in self.db.execute(
                "SELECT rank FROM tickets WHERE day = ? AND service = ? AND status = 'waiting'"
                " ORDER BY rank LIMIT ?",
                (current["day"], current["service"], self.site.requeue_after + 1),
            )
        ]
        k = self.site.requeue_after
        if len(ranks) > k:
            rank = ranks[k] - 0.5 if k == 0 else (ranks[k - 1] + ranks[k]) / 2
        else:
            rank = (ranks[-1] if ranks else current["rank"]) + 0.5
        self.db.execute(
            "UPDATE tickets SET status = 'waiting', counter = NULL, rank = ? WHERE id = ?",
            (rank, current["id"]),
        )
        self._log(current["id"], now, "requeued", counter.number)
        effects.services.add(current["service"])
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _transfer(self, counter: Counter, current: sqlite3.Row | None, fields: dict[str, Any],
                  now: datetime, effects: Effects) -> dict[str, Any]:
        """To another field's line, keeping the number and the place earned by waiting."""
        current = _serving(counter, current)
        target = self.site.service(fields["service"])
        if target is None:
            raise p.ProtocolError(p.UNKNOWN_SERVICE, f"no service {fields['service']!r}")
        if target.code == current["service"]:
            raise p.ProtocolError(p.BAD_SCHEMA, f"the ticket is already in {target.code}")
        self.db.execute(
            "UPDATE tickets SET status = 'waiting', counter = NULL, service = ? WHERE id = ?",
            (target.code, current["id"]),
        )
        self._log(current["id"], now, "transferred", counter.number, target.code)
        effects.services.update({current["service"], target.code})
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(current["id"]))}

    def _pause(self, counter: Counter, _current: sqlite3.Row | None, _fields: dict[str, Any],
               _now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 1 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        return {}

    def _resume(self, counter: Counter, _current: sqlite3.Row | None, _fields: dict[str, Any],
                _now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 0 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        return {}

    def _rate(self, counter: Counter, _current: sqlite3.Row | None, fields: dict[str, Any],
              now: datetime, _effects: Effects) -> dict[str, Any]:
        score = fields["score"]
        if score not in p.RATINGS:
            raise p.ProtocolError(p.BAD_SCHEMA, "score must be 1 (very dissatisfied) to 5")
        row = self.db.execute(
            "SELECT * FROM tickets WHERE id = ? AND counter = ? AND status IN ('serving', 'served')",
            (fields["ticket"], counter.number),
        ).fetchone()
        if row is None:
            raise p.ProtocolError(
                p.NOT_FOUND, f"ticket {fields['ticket']} was not served at counter {counter.number}"
            )
        if row["rating"] is not None:
            raise p.ProtocolError(p.ALREADY_RATED, f"ticket {row['number']} has been rated")
        self.db.execute("UPDATE tickets SET rating = ? WHERE id = ?", (score, row["id"]))
        self._log(row["id"], now, "rated", counter.number, str(score))
        return {"ticket": self.ticket_view(self._ticket(row["id"])), "score": score}

    # ------------------------------------------------------------------ calling

    def _call_next(self, counter: Counter, now: datetime, effects: Effects) -> dict[str, Any]:
        self.db.execute("UPDATE counters SET paused = 0 WHERE number = ?", (counter.number,))
        effects.services.update(counter.services)
        chosen = self._choose(counter, self.day_of(now))
        skip_unconfirmed(self.db, self.day_of(now), counter.services, chosen["rank"] if chosen else None)
        if chosen is None:
            return {"ticket": None}
        self.db.execute(
            "UPDATE tickets SET status = 'serving', counter = ?, called_at = ?, calls = 1"
            " WHERE id = ? AND status = 'waiting'",
            (counter.number, now.timestamp(), chosen["id"]),
        )
        self._record_call(chosen["id"], counter.number, now, False, effects)
        effects.services.add(chosen["service"])
        effects.site = True
        return {"ticket": self.ticket_view(self._ticket(chosen["id"]))}

    def _choose(self, counter: Counter, day: str) -> sqlite3.Row | None:
        """Priority first (earlier number first), unless `max_in_a_row` priority calls in a
        row would starve a waiting regular ticket; regular tickets by service preference."""
        marks = ",".join("?" * len(counter.services))
        waiting = f"day = ? AND status = 'waiting' AND service IN ({marks}) AND id NOT IN ({UNCONFIRMED})"
        args = (day, *counter.services)
        first_priority = self.db.execute(
            f"SELECT * FROM tickets WHERE {waiting} AND priority IS NOT NULL ORDER BY rank LIMIT 1",
            args,
        ).fetchone()
        first_regular = None
        for code in counter.services:
            first_regular = self.db.execute(
                "SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND service = ?"
                f" AND priority IS NULL AND id NOT IN ({UNCONFIRMED}) ORDER BY rank LIMIT 1",
                (day, code),
            ).fetchone()
            if first_regular is not None:
                break
        streak = self.db.execute(
            "SELECT priority_streak FROM counters WHERE number = ?", (counter.number,)
        ).fetchone()[0]
        if first_priority is not None and (
            first_regular is None or streak < self.site.priority.max_in_a_row
        ):
            self.db.execute(
                "UPDATE counters SET priority_streak = priority_streak + 1 WHERE number = ?",
                (counter.number,),
            )
            return first_priority
        if first_regular is not None:
            self.db.execute(
                "UPDATE counters SET priority_streak = 0 WHERE number = ?", (counter.number,)
            )
        return first_regular

    def _record_call(self, ticket_id: int, counter: int, now: datetime, recall: bool,
                     effects: Effects) -> None:
        cursor = self.db.execute(
            "INSERT INTO calls (ticket, counter, at, recall) VALUES (?, ?, ?, ?)",
            (ticket_id, counter, now.timestamp(), int(recall)),
        )
        self._log(ticket_id, now, "recalled" if recall else "called", counter)
        assert cursor.lastrowid is not None
        effects.calls.append(cursor.lastrowid)

    def _finish(self, ticket: sqlite3.Row, status: str, now: datetime, effects: Effects) -> None:
        self.db.execute(
            "UPDATE tickets SET status = ?, finished_at = ? WHERE id = ?",
            (status, now.timestamp(), ticket["id"]),
        )
        self._log(ticket["id"], now, status, ticket["counter"])
        effects.services.add(ticket["service"])
        effects.site = True

    def _log(self, ticket_id: int | None, now: datetime, event: str, counter: int | None = None,
             detail: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO ticket_log (ticket, at, event, counter, detail) VALUES (?, ?, ?, ?, ?)",
            (ticket_id, now.timestamp(), event, counter, detail),
        )
