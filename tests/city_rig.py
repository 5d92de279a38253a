"""What the city tests share: a hub's day played through the real dispatcher, and a hub's
journal read back from its database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from dispatcher.journal import install, read_events
from luot.mqtt import HubLink


def played_day(connect: Callable[..., HubLink], database: Path, *, takes: int, served: int,
               score: int) -> HubLink:
    """The journal installed in the dispatcher's `database`, then `takes` numbers (CT and HT in
    turn) at kiosk-1, the first `served` of them called at counter 2 and rated `score`; the
    counter's link, for what a test does next."""
    with sqlite3.connect(database) as db:
        install(db)
    kiosk, counter = connect("kiosk-1"), connect("quay-2")
    for i in range(takes):
        kiosk.request("take", service=("CT", "HT")[i % 2])
    for _ in range(served):
        ticket = counter.request("next", counter=2)["ticket"]
        counter.request("rate", counter=2, ticket=ticket["id"], score=score)
    return counter


def journal_events(database: Path) -> list[dict]:
    """Every event of a hub's journal, in sequence order."""
    db = sqlite3.connect(database)
    try:
        return read_events(db, 0, limit=100_000)
    finally:
        db.close()
